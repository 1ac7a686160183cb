"""One bounded integer parser for every id, page, page size and year a request carries.

Query strings, form fields, JSON bodies and URL paths all go through `parse`: ASCII digits
only (no sign, spaces, '²' or other Unicode digits, which `str.isdigit` and `int` accept),
within the bounds of the kind of number, so nothing a client sends reaches the database as a
number it cannot hold. A bad value raises `BadParameter`: the HTML pages answer 400 with its
message, the JSON API a 422 problem naming the field. In a URL path (`<int:…>`) a value out of
bounds matches no route: 404, as for any id that does not exist. `?page=` and `?per_page=` mean
the same on every page, so they are checked for every request before its view runs (Flask-
SQLAlchemy's `paginate` reads them itself).
"""

from dataclasses import dataclass

from flask import request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest
from werkzeug.routing import BaseConverter, ValidationError


@dataclass(frozen=True)
class Bounds:
    low: int
    high: int

    @property
    def digits(self) -> int:
        return len(str(self.high))


ID = Bounds(1, 2**31 - 1)
PAGE = Bounds(1, 10**6)
PER_PAGE = Bounds(1, 100)
YEAR = Bounds(1900, 2200)
# Counts and amounts a filter compares with (gifts, euros): what a 32-bit column holds.
COUNT = Bounds(0, 2**31 - 1)


class BadParameter(BadRequest):
    """A number out of its bounds or not a number; `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def parse(value, bounds: Bounds, field: str) -> int:
    """`value` (text of ASCII digits, or a JSON integer) as an int within `bounds`."""
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str) and 0 < len(value) <= bounds.digits and _ascii_digits(value):
        number = int(value)
    else:
        number = None
    if number is None or not bounds.low <= number <= bounds.high:
        raise BadParameter(
            field,
            str(
                _l(
                    "%(field)s must be a whole number from %(low)s to %(high)s.",
                    field=field,
                    low=bounds.low,
                    high=bounds.high,
                )
            ),
        )
    return number


def arg(name: str, bounds: Bounds, default: int | None = None, args=None) -> int | None:
    """The query-string (or `args`) value `name`; `default` when absent, or empty on an HTML
    page (a filter form's "any" choice sends an empty field; API clients leave it out)."""
    values = request.args if args is None else args
    if name not in values:
        return default
    value = values[name]
    if value == "" and not request.path.startswith("/api/"):
        return default
    return parse(value, bounds, name)


def json_int(data: dict, name: str, bounds: Bounds, required: bool = False) -> int | None:
    """A JSON body's integer field (an integer, not text); absent or null gives None."""
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, int):
        raise BadParameter(name, str(_l("%(field)s must be a whole number.", field=name)))
    return parse(value, bounds, name)


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


class IdConverter(BaseConverter):
    """`<int:…>` in routes: ASCII digits within ID bounds, else no match (404)."""

    regex = r"[0-9]{1,10}"
    weight = 50
    part_isolating = True

    def to_python(self, value: str) -> int:
        number = int(value)
        if not ID.low <= number <= ID.high:
            raise ValidationError()
        return number

    def to_url(self, value) -> str:
        return str(int(value))


def check_paging() -> None:
    arg("page", PAGE)
    arg("per_page", PER_PAGE)


def init_app(app) -> None:
    """Before any route is added: every `<int:…>` in a path is a bounded id."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(check_paging)
