"""One error type for services, so forms and the JSON API report the same messages."""


class Invalid(Exception):
    """Field name -> message; the service stored nothing."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


def apply_to_form(form, invalid: Invalid) -> None:
    """Show a service's errors beside the form's fields (or at the top)."""
    for field, message in invalid.errors.items():
        target = getattr(form, field, None)
        if target is not None and hasattr(target, "errors"):
            target.errors = [*target.errors, str(message)]
        else:
            form.form_errors.append(str(message))
