"""Italian by default, English by choice; every UI string translated; money and dates by locale."""

import re
from datetime import date, timedelta
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from legami.timeutil import today_rome
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "legami/translations"
PO = TRANSLATIONS / "it/LC_MESSAGES/messages.po"
MO = PO.with_suffix(".mo")
POT = TRANSLATIONS / "messages.pot"
# As the command at the top of babel.cfg: babel's default keywords plus `-k _l -k lazy_gettext`.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
ITALIAN_MONTHS = [
    "gen",
    "feb",
    "mar",
    "apr",
    "mag",
    "giu",
    "lug",
    "ago",
    "set",
    "ott",
    "nov",
    "dic",
]
ENGLISH_MONTHS = [
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
]
FIX = "run the commands at the top of babel.cfg, translate, compile"


def _key(message_id):
    return message_id if isinstance(message_id, str) else tuple(message_id)


def _extracted() -> set:
    """Every msgid the code and templates use, found as `pybabel extract` finds them."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    return {
        _key(message)
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS
        )
    }


def _read(path: Path, reader=read_po):
    with path.open("rb") as f:
        return reader(f)


def _messages(catalog) -> dict:
    return {_key(m.id): m for m in catalog if m.id}


def test_extraction_finds_python_templates_lazy_strings_and_plurals():
    found = _extracted()
    assert "Live campaigns" in found  # a template
    assert "Campaign saved." in found  # Python gettext
    assert "Another amount (€)" in found  # Python lazy_gettext (_l)
    assert ("day left", "days left") in found  # ngettext in a template
    assert "Thank you for your gift to %(title)s" in found  # mailing


def test_every_ui_string_has_an_italian_translation():
    catalog = _read(PO)
    assert str(catalog.locale) == "it"
    assert (catalog.num_plurals, catalog.plural_expr) == (2, "(n != 1)")
    messages = _messages(catalog)
    extracted = _extracted()
    assert sorted(map(str, extracted - set(messages))) == [], f"missing: {FIX}"
    assert sorted(map(str, set(messages) - extracted)) == [], f"no longer used: {FIX}"
    assert sorted(map(str, set(_messages(_read(POT))) ^ extracted)) == [], f"stale .pot: {FIX}"
    for key, message in messages.items():
        assert "fuzzy" not in message.flags, f"fuzzy: {key!r}"
        ids = key if isinstance(key, tuple) else (key,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert len(strings) == (2 if message.pluralizable else 1), key
        assert all(s.strip() for s in strings), f"untranslated: {key!r}"
        for index, string in enumerate(strings):
            msgid = ids[min(index, len(ids) - 1)]
            assert sorted(PLACEHOLDER.findall(string)) == sorted(PLACEHOLDER.findall(msgid)), (
                key,
                string,
            )
    assert [(m.id, errors) for m, errors in catalog.check()] == []


def test_compiled_catalog_matches_the_po_file():
    def pairs(catalog) -> dict:
        return {_key(m.id): _key(m.string) for m in catalog if m.id}

    compiled = pairs(_read(MO, read_mo))
    assert len(compiled) > 300
    assert compiled == pairs(_read(PO)), "run: pybabel compile -d legami/translations -l it"


def test_italian_by_default_and_english_by_choice(client):
    factories.campaign(title="Casa e orto")
    home = client.get("/").text
    assert '<html lang="it">' in home
    assert "Campagne in corso" in home and "Live campaigns" not in home
    assert 'href="/?lang=en" hreflang="en"' in home
    english = client.get("/?lang=en").text
    assert '<html lang="en">' in english
    assert "Live campaigns" in english and "Campagne in corso" not in english
    remembered = client.get("/").text
    assert '<html lang="en">' in remembered and "Live campaigns" in remembered
    assert "Campagne in corso" in client.get("/?lang=it").text
    client.get("/?lang=xx")  # an unknown language changes nothing
    home = client.get("/").text
    assert '<html lang="it">' in home and "Campagne in corso" in home


def test_a_fresh_visitor_gets_italian_whatever_the_browser_asks(client):
    factories.campaign()
    page = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).text
    assert '<html lang="it">' in page and "Campagne in corso" in page


def test_money_follows_the_language(client):
    campaign = factories.campaign(raised_cents=123_450, goal_cents=500_000)
    italian = client.get(f"/campagne/{campaign.slug}").text
    assert "1.234,50\xa0€" in italian and "raccolti su 5.000\xa0€" in italian
    assert "€1,234.50" not in italian
    english = client.get(f"/campagne/{campaign.slug}?lang=en").text
    assert "€1,234.50" in english and "raised of €5,000" in english
    assert "1.234,50\xa0€" not in english


def test_dates_follow_the_language(client):
    starts = today_rome() - timedelta(days=3)
    campaign = factories.campaign(starts_on=starts, ends_on=date(2099, 3, 7))
    month_it = ITALIAN_MONTHS[starts.month - 1]
    month_en = ENGLISH_MONTHS[starts.month - 1]
    start_it = f"{starts.day} {month_it} {starts.year}"
    start_en = f"{month_en} {starts.day}, {starts.year}"
    italian = client.get(f"/campagne/{campaign.slug}").text
    assert f"Periodo: {start_it} \u2013 7 mar 2099" in italian
    english = client.get(f"/campagne/{campaign.slug}?lang=en").text
    assert f"From {start_en} to Mar 7, 2099" in english


def test_plurals_follow_the_language(client):
    one = factories.campaign(gift_count=1, raised_cents=1_000, ends_on=today_rome())
    many = factories.campaign(gift_count=3, raised_cents=3_000)
    page = client.get(f"/campagne/{one.slug}").text
    assert "<strong>1</strong> donazione<" in page
    assert "<strong>1</strong> giorno rimasto<" in page
    page = client.get(f"/campagne/{many.slug}").text
    assert "<strong>3</strong> donazioni<" in page and "giorni rimasti<" in page
    page = client.get(f"/campagne/{one.slug}?lang=en").text
    assert "<strong>1</strong> gift<" in page and "<strong>1</strong> day left<" in page
    page = client.get(f"/campagne/{many.slug}").text
    assert "<strong>3</strong> gifts<" in page and "days left<" in page


def test_form_labels_and_validation_messages_follow_the_language(client):
    campaign = factories.campaign()
    give = f"/campagne/{campaign.slug}/dona"
    italian = client.get(give).text
    assert "Un altro importo (€)" in italian and "Another amount" not in italian
    invalid = {"email": "not-an-address", "amount": "5000"}
    response = client.post(give, data=invalid)
    assert response.status_code == 422
    assert "Indirizzo e-mail non valido." in response.text
    english = client.get(f"{give}?lang=en").text
    assert "Another amount (€)" in english and "Un altro importo" not in english
    response = client.post(give, data=invalid)
    assert response.status_code == 422
    assert "Invalid email address." in response.text
