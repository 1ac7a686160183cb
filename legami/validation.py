"""One error type for services, so forms and the JSON API report the same messages; and the
one shape every JSON request body has: an object (an array or a bare value is a 400 before any
view, form or service reads it)."""

from flask import abort, request


class Invalid(Exception):
    """Field name -> message; the service stored nothing."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


def apply_to_form(form, invalid: Invalid, aliases: dict[str, str] | None = None) -> None:
    """Show a service's errors beside the form's fields (or at the top).

    `aliases` maps a service field to the form field that holds it (goal_cents -> goal).
    """
    for field, message in invalid.errors.items():
        target = getattr(form, (aliases or {}).get(field, field), None)
        if target is not None and hasattr(target, "errors"):
            target.errors = [*target.errors, str(message)]
        else:
            form.form_errors.append(str(message))


def json_bodies_are_objects() -> None:
    if not (request.is_json and request.content_length):
        return
    if not isinstance(request.get_json(silent=True), dict):
        abort(400, "The body must be a JSON object.")


def init_app(app) -> None:
    app.before_request(json_bodies_are_objects)
