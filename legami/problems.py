"""RFC 9457 problem details for everything under /api/."""

from flask import jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from legami.params import BadParameter

PROBLEM_TYPE = "about:blank"


def problem(status: int, title: str, detail: str = "", **extensions):
    body = {"type": extensions.pop("type", PROBLEM_TYPE), "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    body.update(extensions)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def validation_problem(errors: dict[str, str]):
    """422 with one entry per field, for API clients to show beside their inputs."""
    return problem(
        422,
        "Unprocessable Content",
        "The request has invalid fields.",
        errors=[{"field": field, "message": str(message)} for field, message in errors.items()],
    )


PAGES = {
    400: (
        _l("Request not understood"),
        _l("The form may have expired: go back, reload the page and send it again."),
    ),
    403: (_l("Not allowed"), _l("Your account does not have the role this page needs.")),
    404: (_l("Page not found"), _l("The page you are looking for does not exist or was moved.")),
    413: (_l("File too large"), _l("The file you sent is too large.")),
}


def init_app(app) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if isinstance(exc, BadParameter):
            return bad_parameter(exc)
        if not request.path.startswith("/api/"):
            if exc.code in PAGES:
                title, message = PAGES[exc.code]
                page = render_template("error.html", code=exc.code, title=title, message=message)
                return page, exc.code
            return exc
        response = problem(exc.code or 500, exc.name, exc.description or "")
        if exc.code == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="legami"'
        if getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
        return response


def bad_parameter(exc: BadParameter):
    """A number out of bounds: 422 naming the field in the API, a 400 page elsewhere."""
    if request.path.startswith("/api/"):
        return validation_problem({exc.field: exc.description})
    title = PAGES[400][0]
    return render_template("error.html", code=400, title=title, message=exc.description), 400
