"""Numbers, changes and subjects as people read them: by the locale's rules, with plurals,
and no stray spaces where a first name was empty."""

from flask_babel import force_locale

from legami.i18n import number, percent_change
from mailing.compose import tidy_subject


def test_numbers_and_changes_follow_the_locale(app):
    with app.test_request_context():
        with force_locale("it"):
            assert (number(1234), number(120.5), percent_change(0.126)) == (
                "1.234",
                "120,5",
                "+13%",
            )
            assert percent_change(-0.05) == "-5%"
        with force_locale("en"):
            assert (number(1234), number(120.5)) == ("1,234", "120.5")


def test_a_subject_loses_what_an_empty_first_name_leaves():
    assert tidy_subject(" news from the garden") == "news from the garden"
    assert tidy_subject(", notizie dall'orto") == "notizie dall'orto"
    assert tidy_subject("Ciao , notizie  dall'orto") == "Ciao, notizie dall'orto"
    assert tidy_subject("Ciao !") == "Ciao!"
    assert tidy_subject("Hello Anna, news") == "Hello Anna, news"
