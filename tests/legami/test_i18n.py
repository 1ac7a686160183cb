"""Italian by default, English by choice; every UI string translated; money by locale."""

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests import factories

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "legami/translations/it/LC_MESSAGES/messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s")


def _extracted() -> set:
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def _catalog():
    with PO.open("rb") as f:
        return read_po(f)


def test_every_ui_string_has_an_italian_translation():
    catalog = _catalog()
    translations = {}
    for message in catalog:
        if message.id:
            key = message.id if isinstance(message.id, str) else tuple(message.id)
            translations[key] = message
    missing = sorted(map(str, _extracted() - set(translations)))
    assert missing == [], "run the commands at the top of babel.cfg"
    for key, message in translations.items():
        assert "fuzzy" not in message.flags, key
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"untranslated: {key}"
        ids = key if isinstance(key, tuple) else (key,)
        assert set(PLACEHOLDER.findall(ids[-1])) == set(PLACEHOLDER.findall(strings[-1])), key


def test_compiled_catalog_matches_the_po_file():
    def pairs(catalog) -> dict:
        def key(value):
            return tuple(value) if isinstance(value, list | tuple) else value

        return {key(m.id): key(m.string) for m in catalog if m.id}

    with (PO.with_suffix(".mo")).open("rb") as f:
        compiled = pairs(read_mo(f))
    assert compiled == pairs(_catalog())


def test_italian_by_default_and_english_by_choice(client):
    factories.campaign(title="Casa e orto")
    home = client.get("/").text
    assert '<html lang="it">' in home
    assert "Campagne in corso" in home and "Live campaigns" not in home
    assert 'href="/?lang=en" hreflang="en"' in home
    english = client.get("/?lang=en").text
    assert '<html lang="en">' in english and "Live campaigns" in english
    assert '<html lang="en">' in client.get("/").text  # remembered
    assert "Campagne in corso" in client.get("/?lang=it").text
    client.get("/?lang=xx")  # an unknown language changes nothing
    assert '<html lang="it">' in client.get("/").text


def test_money_and_dates_follow_the_language(client):
    campaign = factories.campaign(raised_cents=123_450, goal_cents=500_000)
    italian = client.get(f"/campagne/{campaign.slug}").text
    assert "1.234,50\xa0€" in italian and "5.000\xa0€" in italian
    english = client.get(f"/campagne/{campaign.slug}?lang=en").text
    assert "€1,234.50" in english and "€5,000" in english
    month_it = {
        1: "gen",
        2: "feb",
        3: "mar",
        4: "apr",
        5: "mag",
        6: "giu",
        7: "lug",
        8: "ago",
        9: "set",
        10: "ott",
        11: "nov",
        12: "dic",
    }[campaign.ends_on.month]
    assert f"{campaign.ends_on.day} {month_it} {campaign.ends_on.year}" in italian
    assert campaign.ends_on.strftime("%b") in english
