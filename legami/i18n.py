"""Italian first, English by choice; money and dates formatted by locale."""

from datetime import date, datetime

from flask import request, session, url_for
from flask_babel import format_date, format_datetime, format_decimal, format_percent, get_locale

from legami.money import format_money

LANGUAGES = {"it": "Italiano", "en": "English"}
DEFAULT = "it"


def select_locale() -> str:
    """`?lang=en` chooses and remembers the language; otherwise the remembered one, or Italian.

    A link, not a form: public pages then carry no per-visitor token and can be cached.
    """
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        if session.get("lang") != chosen:
            session["lang"] = chosen
        return chosen
    remembered = session.get("lang")
    return remembered if remembered in LANGUAGES else DEFAULT


def current_language() -> str:
    return str(get_locale() or DEFAULT)


def money(cents: int, currency: str = "EUR") -> str:
    locale = "it_IT" if current_language() == "it" else "en_IE"
    return format_money(cents, currency, locale)


def number(value: int | float) -> str:
    """A count or a rate by the locale's rules (`1.234` in Italian, `1,234` in English)."""
    return format_decimal(value)


def percent_change(value: float) -> str:
    """A change as a signed percentage by the locale's rules (`+12%`, `-5%`)."""
    return format_percent(value, "+#,##0%;-#,##0%")


def when(value: date | datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        # "long" and "full" name a day, without the time of day.
        return format_date(value, fmt) if fmt in ("long", "full") else format_datetime(value, fmt)
    return format_date(value, fmt)


def init_app(app, babel) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.add_template_filter(money, "money")
    app.add_template_filter(when, "when")
    app.add_template_filter(number, "number")
    app.add_template_filter(percent_change, "percent_change")
    app.jinja_env.globals.update(
        LANGUAGES=LANGUAGES, current_language=current_language, page_url=page_url
    )


def page_url(page: int) -> str:
    """This listing's address at another page, its filters kept."""
    return url_for(request.endpoint, **{**request.view_args, **request.args, "page": page})
