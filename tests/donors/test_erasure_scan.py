"""Forgetting a donor reaches every copy: a scan of every table and every file afterwards
finds their e-mail, name, phone and codice fiscale only in the receipts kept by law."""

import io
import json
import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import JSON, String, Text, Unicode, cast, func, or_, select
from stdnum.it import codicefiscale

from donors import importing
from donors.models import Donor, ImportJob, Interaction, InteractionKind
from legami import audit
from legami.extensions import db
from legami.timeutil import today_rome
from mailing import queue
from mailing.models import Delivery, DeliveryStatus, Newsletter
from payments.models import RecurringGift, RecurringStatus
from receipts import issuing
from receipts.models import Receipt
from tests import factories

EMAIL = "ottavia.zanardelli@example.org"
OTHER_EMAIL = "Ottavia.Z+doni@Example.org"
FIRST, LAST = "Ottavia", "Zanardelli"
PHONE = "+39 333 7654321"
CF_BASE = "ZNRTTV80A41D150"
CF = CF_BASE + codicefiscale.calc_check_digit(CF_BASE)


def _identifiers() -> list[str]:
    return [EMAIL, OTHER_EMAIL.lower(), f"{FIRST} {LAST}", f"{LAST} {FIRST}", PHONE, CF]


def _person(client, login):
    """A donor with every kind of trace Legami keeps, from its own flows where it has them."""
    staff = login("admin")
    long_ago = today_rome() - timedelta(days=11 * 366)  # gifts past the retention period
    donor = factories.donor(
        email=EMAIL, first_name=FIRST, last_name=LAST, phone=PHONE, codice_fiscale=CF
    )
    from donors.models import DonorEmail

    db.session.add(DonorEmail(donor_id=donor.id, email=OTHER_EMAIL.lower()))
    campaign = factories.campaign()
    gifts = [
        factories.donation(
            donor=donor, campaign=campaign, received_on=long_ago, amount_cents=50_000
        ),
        factories.donation(
            donor=donor,
            campaign=campaign,
            received_on=long_ago,
            amount_cents=2_000,
            dedication=f"In memoria, da {FIRST} {LAST}",
        ),
    ]
    receipts = [issuing.issue_for_gift(gift.id, requested=True) for gift in gifts]
    assert all(receipts)
    db.session.add(
        RecurringGift(
            donor_id=donor.id,
            campaign_id=campaign.id,
            amount_cents=1000,
            status=RecurringStatus.CANCELLED,
        )
    )
    newsletter = Newsletter(organisation_id=campaign.organisation_id, title="Notizie")
    db.session.add(newsletter)
    db.session.flush()
    db.session.add(
        Delivery(
            newsletter_id=newsletter.id,
            donor_id=donor.id,
            email=EMAIL,
            first_name=FIRST,
            language="it",
            status=DeliveryStatus.SENT,
            attempts=1,
            last_error="",
        )
    )
    db.session.add(
        Interaction(
            donor_id=donor.id,
            kind=InteractionKind.CALL,
            occurred_on=today_rome(),
            summary=f"Chiamata a {FIRST} {LAST} al {PHONE}",
        )
    )
    audit.record(
        staff,
        "donor.note",
        f"donor:{donor.id}",
        text=f"{FIRST} {LAST} <{EMAIL}> ha chiesto la ricevuta, CF {CF}, tel. {PHONE}",
    )
    db.session.commit()

    # Free text in an audit entry about someone else, that names the person too.
    audit.record(staff, "donor.note", "donor:0", text=f"Parente di {LAST} {FIRST}")
    db.session.commit()

    # A staff edit (its change history holds the old phone), the GDPR export (audited).
    assert client.get(f"/staff/donors/{donor.id}/gdpr-export").status_code == 200

    # An import that names the person, run for real: its upload stays in instance/imports.
    upload = (
        "E-mail;Nome;Cognome;Telefono;Codice Fiscale\r\n"
        f"{EMAIL};{FIRST};{LAST};{PHONE};{CF}\r\n"
        "altra.persona@example.org;Bruna;Verdi;;\r\n"
    ).encode("cp1252")
    job = importing.create_job("contatti.csv", io.BytesIO(upload), "generic", staff.id)
    db.session.commit()
    importing.check(job.id)
    assert importing.claim(job.id)
    importing.run(job.id)
    db.session.commit()

    # A portal link by mail (the outbox, as without SMTP) and a portal session from it.
    portal = client.application.test_client()
    assert portal.post("/portal", data={"email": EMAIL}).status_code in (200, 302)
    queue.send_due()  # what the scheduler does: the mail queue to the outbox
    outbox = Path(client.application.config["OUTBOX_FOLDER"])
    [mail] = [p for p in outbox.glob("*.eml") if EMAIL.encode() in p.read_bytes()]
    [link] = re.findall(rb"http://localhost(/portal/accedi/[^\s\"<]+)", mail.read_bytes())
    entered = portal.post(link.decode())
    assert entered.status_code == 302
    assert portal.get("/portal/inizio").status_code == 200
    return donor, job, portal


def _table_hits(identifiers: list[str]) -> set[str]:
    needles = [i.lower() for i in identifiers]
    needles += [json.dumps(i.lower())[1:-1] for i in identifiers]
    hits = set()
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            is_json = isinstance(column.type, JSON)
            if not (is_json or isinstance(column.type, String | Text | Unicode)):
                continue
            text = func.lower(cast(column, Text) if is_json else column)
            found = db.session.scalar(
                select(func.count())
                .select_from(table)
                .where(or_(*(text.contains(n, autoescape=True) for n in needles)))
            )
            if found:
                hits.add(f"{table.name}.{column.name}")
    return hits


def _file_hits(folder: Path, identifiers: list[str]) -> set[str]:
    needles = {
        n.lower()
        for i in identifiers
        for n in (i.encode(), i.encode("cp1252"), i.encode("utf-16-le"))
    }
    return {
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and any(n in path.read_bytes().lower() for n in needles)
    }


def test_forgetting_reaches_every_table_and_file(app, client, login):
    donor, job, portal = _person(client, login)
    instance = Path(app.instance_path)
    before_tables = _table_hits(_identifiers())
    assert {"donors.email", "audit_log.detail", "newsletter_deliveries.email"} <= before_tables
    assert any(name.startswith("imports/") for name in _file_hits(instance, _identifiers()))
    assert any(name.startswith("outbox/") for name in _file_hits(instance, _identifiers()))

    answer = client.post(
        f"/staff/donors/{donor.id}/forget",
        data={"request_note": f"e-mail from {FIRST} {LAST}", "confirm": "y"},
    )
    assert answer.status_code == 302, answer.text

    assert _table_hits(_identifiers()) == {"receipts.snapshot"}
    kept_files = _file_hits(instance, _identifiers())
    assert all(name.startswith("receipts/") for name in kept_files), kept_files

    # The other person's row of the upload is still there, the import report too.
    stored = importing.stored_file(db.session.get(ImportJob, job.id)).read_bytes()
    assert b"altra.persona@example.org" in stored and EMAIL.encode() not in stored
    # The issued receipts are untouched, their numbers too.
    receipts = db.session.scalars(select(Receipt).where(Receipt.donor_id == donor.id)).all()
    assert len(receipts) == 2 and all(r.status == "issued" for r in receipts)
    assert all(CF in json.dumps(r.snapshot) for r in receipts)
    # The portal session ended; the gifts stay, anonymised.
    assert portal.get("/portal/inizio").status_code == 302
    forgotten = db.session.get(Donor, donor.id)
    assert forgotten.is_erased and forgotten.codice_fiscale is None
