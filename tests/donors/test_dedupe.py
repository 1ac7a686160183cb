"""Duplicate candidates by the rules beyond e-mail, codice fiscale and name + postal code:
swapped first and last name, the same mailbox (Gmail dots, +tag, googlemail.com), the same
phone in E.164 form, the same name and town with a postal code missing. Each pair is listed
with the rules it meets, for donors entered by staff (the ORM) and donors imported (bulk SQL)
alike."""

import io
import json
from datetime import UTC, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from donors import dedupe, importing
from donors.match_keys import mailbox_key, phone_key
from donors.models import Donor
from legami.extensions import db
from tests import factories
from tests.conftest import make_test_app
from tests.dbs import fresh_database

R = dedupe.Reason


def _reasons() -> dict[tuple[int, int], set]:
    return {
        (c.first.id, c.second.id): set(c.reasons)
        for c in dedupe._as_candidates(db.session.execute(dedupe.candidates_query()).all())
    }


@pytest.mark.parametrize(
    ("address", "mailbox"),
    [
        ("maria.rossi@gmail.com", "mariarossi@gmail.com"),
        ("m.a.r.i.a.rossi+donazioni@googlemail.com", "mariarossi@gmail.com"),
        ("maria.rossi+news@example.it", "maria.rossi@example.it"),  # dots count elsewhere
        ("+only@example.it", "+only@example.it"),  # no local part left: kept
        ("not-an-address", "not-an-address"),
    ],
)
def test_mailbox_key(address, mailbox):
    assert mailbox_key(address) == mailbox


@pytest.mark.parametrize(
    ("phone", "country", "key"),
    [
        ("+39 0372 111222", "IT", "+390372111222"),
        ("0372/111.222", "IT", "+390372111222"),
        ("0039 0372 111222", "IT", "+390372111222"),
        ("333 123 4567", "IT", "+393331234567"),
        ("(333) 123-4567", "IT", "+393331234567"),
        ("39 333 1234567", "IT", "+393331234567"),
        ("\uff0b\uff13\uff19 \uff13\uff13\uff13 1234567", "IT", "+393331234567"),  # full-width
        ("+41 44 668 18 00", "IT", "+41446681800"),
        ("044 668 18 00", "CH", ""),  # a national number abroad: its country is unknown
        ("333 123 4567 int. 2", "IT", ""),
        ("12", "IT", ""),
        ("", "IT", ""),
    ],
)
def test_phone_key(phone, country, key):
    assert phone_key(phone, country) == key


def test_each_new_rule_finds_its_pairs_and_only_those(app):
    swapped = factories.donor(first_name="Maria", last_name="Rossi", town="Cremona")
    swapped_too = factories.donor(first_name="ROSSI", last_name="Maria", town="Crema")
    same_twice = factories.donor(first_name="Anna", last_name="Anna")  # not its own swap
    gmail = factories.donor(email="luca.verdi@gmail.com", first_name="Luca", last_name="Verdi")
    googlemail = factories.donor(
        email="lucaverdi+legami@googlemail.com", first_name="L.", last_name="V."
    )
    tagged = factories.donor(email="sara+news@example.it", last_name="Sara")
    untagged = factories.donor(email="sara@example.it", last_name="S")
    dotted_elsewhere = factories.donor(email="s.ara@example.it", last_name="S.")
    phone = factories.donor(phone="+39 0372 111222", last_name="Casa Neri")
    phone_too = factories.donor(phone="0372-111.222", last_name="Neri Paolo")
    phone_abroad = factories.donor(phone="0372 111222", country="CH", last_name="Altro")
    town = factories.donor(first_name="Nicolò", last_name="Ferri", town="Forlì")
    town_too = factories.donor(
        first_name="Nicolo", last_name="FERRI", town="FORLI", postal_code="47121"
    )
    both_codes = factories.donor(
        first_name="Nicolò", last_name="Ferri", town="Forlì", postal_code="47122"
    )
    other_town = factories.donor(first_name="Nicolò", last_name="Ferri", town="Cesena")
    forgotten = factories.donor(
        email="lucaverdi@gmail.com", first_name="Luca", last_name="Verdi", erased_at=town.created_at
    )

    reasons = _reasons()
    assert reasons == {
        (swapped.id, swapped_too.id): {R.SWAPPED_NAME},
        (gmail.id, googlemail.id): {R.MAILBOX},
        (tagged.id, untagged.id): {R.MAILBOX},
        (phone.id, phone_too.id): {R.PHONE},
        (town.id, town_too.id): {R.NAME_TOWN},
        (town.id, both_codes.id): {R.NAME_TOWN},
    }
    # Not listed: a name that is its own swap, dots outside Gmail, a national number abroad,
    # a forgotten donor, another town, two different postal codes (town_too, both_codes).
    listed = {i for pair in reasons for i in pair}
    assert not listed & {same_twice.id, dotted_elsewhere.id, phone_abroad.id, forgotten.id}
    assert other_town.id not in listed


def test_a_pair_meeting_several_rules_shows_each_with_its_label(client, login):
    login("staff")
    a = factories.donor(
        email="anna.bianchi@gmail.com",
        first_name="Anna",
        last_name="Bianchi",
        phone="333 1234567",
        town="Cremona",
    )
    b = factories.donor(
        email="annabianchi@gmail.com",
        first_name="Bianchi",
        last_name="Anna",
        phone="+39 333 123 4567",
    )
    assert _reasons() == {(a.id, b.id): {R.SWAPPED_NAME, R.MAILBOX, R.PHONE}}
    page = client.get("/staff/donors/duplicates?lang=en")
    assert page.status_code == 200
    assert page.text.count(f"/staff/donors/merge/{a.id}/{b.id}") == 1
    for label in (
        "same name, first and last swapped",
        "same mailbox (Gmail dots, +tag, googlemail.com)",
        "same phone number",
    ):
        assert label in page.text
    assert "same name and town, a postal code missing" not in page.text
    assert [c.reasons for c in dedupe.candidates_for(b.id)] == [
        (R.SWAPPED_NAME, R.MAILBOX, R.PHONE)
    ]


def test_keys_follow_edits(app):
    donor = factories.donor(first_name="Maria", last_name="Rossi", phone="")
    other = factories.donor(first_name="Giulia", last_name="Verdi", phone="0372 1")
    assert _reasons() == {}
    donor.phone = "0372 123456"
    other.phone = "+39 0372 123456"
    db.session.commit()
    assert _reasons() == {(donor.id, other.id): {R.PHONE}}
    other.phone = ""
    db.session.commit()
    assert _reasons() == {}


def test_imported_donors_carry_the_same_keys_as_entered_ones(app):
    """The import writes donors with set-based SQL, bypassing the ORM's event: its keys must
    be the event's, so its donors pair with those entered one by one."""
    entered = factories.donor(
        email="paolo.neri@gmail.com",
        first_name="Paolo",
        last_name="Neri",
        phone="0372 111222",
        town="Crema",
    )
    csv = (
        "E-mail;Nome;Cognome;Telefono;Città;CAP\n"
        "p.a.o.l.o.neri+dona@googlemail.com;Neri;Paolo;+39 0372 111 222;Cremona;26100\n"
        "altro@example.it;Paolo;Neri;;CREMA;\n"
    ).encode("cp1252")
    job = importing.create_job("soci.csv", io.BytesIO(csv), "generic", None)
    db.session.commit()
    assert importing.claim(job.id)
    importing.run(job.id)
    by_email = {d.email: d for d in db.session.scalars(select(Donor))}
    first = by_email["p.a.o.l.o.neri+dona@googlemail.com"]
    second = by_email["altro@example.it"]
    assert (first.mailbox_key, first.phone_key, first.swapped_name_key) == (
        "paoloneri@gmail.com",
        "+390372111222",
        "paolo neri",
    )
    assert _reasons() == {
        (entered.id, first.id): {R.SWAPPED_NAME, R.MAILBOX, R.PHONE},
        (entered.id, second.id): {R.NAME_TOWN},
        (first.id, second.id): {R.SWAPPED_NAME},
    }
    # The event computes the very same keys when the row is next saved by the ORM.
    keys = [
        (d.name_key, d.swapped_name_key, d.town_key, d.mailbox_key, d.phone_key)
        for d in (first, second)
    ]
    for donor in (first, second):
        donor.notes = "touched"
    db.session.commit()
    assert keys == [
        (d.name_key, d.swapped_name_key, d.town_key, d.mailbox_key, d.phone_key)
        for d in (first, second)
    ]


def test_migration_0009_keys_existing_donors_and_their_import_mappings(tmp_path):
    """Donors stored before 0009 get their keys; an import mapping's `consent_all` becomes
    its row status; going back to 0008 refuses while a person has no name."""
    with fresh_database(tmp_path) as url:
        app = make_test_app(url, tmp_path / "instance")
        with app.app_context():
            upgrade(revision="0008")
            with db.engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO donors (kind, first_name, last_name, organisation_name,"
                        " name_key, email, phone, street, postal_code, town, province, country,"
                        " language, source, source_detail, notes, newsletter_consent,"
                        " report_back_opt_out, created_at, updated_at) VALUES"
                        " ('person', 'Nicolò', 'Ferri', '', 'nicolo ferri',"
                        " 'n.ferri+x@googlemail.com', '0372 111222', '', '', 'Forlì', '', 'IT',"
                        " 'it', 'import', '', '', false, false, :now, :now)"
                    ),
                    {"now": datetime(2025, 1, 1, tzinfo=UTC)},
                )
                for consent_all in (True, False):
                    conn.execute(
                        text(
                            "INSERT INTO import_jobs (filename, stored_path, preset, mapping,"
                            " status, total_rows, processed_rows, created, updated, skipped,"
                            " rejected, error, created_at) VALUES ('a.csv', 'imports/a.csv',"
                            " 'mailchimp', :mapping, 'checked', 0, 0, 0, 0, 0, 0, '', :now)"
                        ),
                        {
                            "mapping": json.dumps(
                                {
                                    "columns": ["email"],
                                    "consent_all": consent_all,
                                    "timezone": "UTC",
                                }
                            ),
                            "now": datetime(2025, 1, 1, tzinfo=UTC),
                        },
                    )
            upgrade(revision="0009")
            with db.engine.connect() as conn:
                keys = conn.execute(
                    text(
                        "SELECT name_key, swapped_name_key, town_key, mailbox_key, phone_key"
                        " FROM donors"
                    )
                ).one()
                mappings = [
                    m if isinstance(m, dict) else json.loads(m)
                    for m in conn.execute(text("SELECT mapping FROM import_jobs ORDER BY id"))
                    .scalars()
                    .all()
                ]
            assert tuple(keys) == (
                "nicolo ferri",
                "ferri nicolo",
                "forli",
                "nferri@gmail.com",
                "+390372111222",
            )
            assert [(m["status"], "consent_all" in m) for m in mappings] == [
                ("subscribed", False),
                ("rows", False),
            ]
            with db.engine.begin() as conn:
                conn.execute(text("UPDATE donors SET first_name = '', last_name = ''"))
            with pytest.raises(SystemExit):  # Flask-Migrate logs the RuntimeError and exits
                downgrade(revision="0008")
            with db.engine.begin() as conn:
                conn.execute(text("UPDATE donors SET last_name = 'Ferri'"))
            downgrade(revision="0008")
            db.engine.dispose()
