"""Annual receipts by mail: each newly issued one goes to its donor, in the donor's language,
with the stored PDF attached, through the mail queue and a real SMTP server; once only."""

from datetime import date
from email.message import EmailMessage

import pytest
from sqlalchemy import select, update

from legami.extensions import db
from legami.timeutil import now_utc
from mailing.models import MailJob
from receipts import annual, pdf
from receipts.issuing import settings_for
from receipts.models import Kind, Policy, Receipt
from tests import factories
from tests.conftest import deliver_queued
from tests.receipts.conftest import pdf_text

YEAR = 2025


@pytest.fixture
def donors_of_the_year(app):
    """An organisation giving annual receipts; an Italian, an English and a forgotten donor
    with gifts of the year."""
    org = factories.organisation(name="Casa del Quartiere", email="info@casa.example.org")
    settings_for(org.id).policy = Policy.ANNUAL
    db.session.commit()
    campaign = factories.campaign(organisation=org)
    donors = {
        "it": factories.donor(email="lucia@example.org"),
        "en": factories.donor(email="ada@example.org", language="en", first_name="Ada"),
        "forgotten": factories.donor(email="gone@example.org", erased_at=now_utc()),
    }
    for donor in donors.values():
        for month in (3, 9):
            factories.donation(donor=donor, campaign=campaign, received_on=date(YEAR, month, 1))
    return donors


def _receipt_of(donor) -> Receipt:
    db.session.expire_all()
    return db.session.scalar(
        select(Receipt).where(Receipt.donor_id == donor.id, Receipt.kind == Kind.ANNUAL)
    )


def _pdf(message: EmailMessage) -> bytes:
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    return part.get_content()


def test_each_donor_gets_the_annual_receipt_once(app, donors_of_the_year, smtp_server):
    outcome = annual.issue_annual(YEAR, workers=1)
    assert outcome.issued == 3
    deliver_queued(app)
    by_address = {m["To"]: m for m in smtp_server.messages}
    assert set(by_address) == {"lucia@example.org", "ada@example.org"}  # none when forgotten

    for language, donor in (("it", donors_of_the_year["it"]), ("en", donors_of_the_year["en"])):
        receipt = _receipt_of(donor)
        mail = by_address[donor.email]
        assert receipt.display_number in mail.get_body(("plain",)).get_content()
        assert mail["Reply-To"] == "info@casa.example.org"
        data = _pdf(mail)
        assert data == pdf.stored_bytes(receipt)
        assert receipt.display_number in pdf_text(data)
        assert receipt.language == language
    english = by_address["ada@example.org"]
    number = _receipt_of(donors_of_the_year["en"]).display_number
    assert english["Subject"] == (
        f"Your annual receipt {number} for {YEAR} from Casa del Quartiere"
    )
    assert "Dear Ada" in english.get_body(("plain",)).get_content()

    again = annual.issue_annual(YEAR, workers=1)
    assert again.issued == 0
    deliver_queued(app)
    assert len(smtp_server.messages) == 2


def test_staff_send_an_annual_receipt_again(app, donors_of_the_year, client, login, smtp_server):
    annual.issue_annual(YEAR, workers=1)
    deliver_queued(app)
    assert len(smtp_server.messages) == 2
    receipt = _receipt_of(donors_of_the_year["en"])
    login("staff")
    assert f"/staff/receipts/{receipt.id}/send" in client.get(f"/staff/receipts/{receipt.id}").text
    assert client.post(f"/staff/receipts/{receipt.id}/send").status_code == 302
    deliver_queued(app)
    assert len(smtp_server.messages) == 3
    resent = smtp_server.messages[2]
    assert resent["To"] == "ada@example.org"
    assert _pdf(resent) == pdf.stored_bytes(receipt)


def test_the_mail_waits_for_the_stored_pdf(app, donors_of_the_year, smtp_server):
    """Issued but not stored yet (a worker still rendering): the mail waits, then goes."""
    for _ids in annual.issue_batches(YEAR):
        pass
    deliver_queued(app)
    assert smtp_server.messages == []
    pdf.render_due()
    db.session.execute(update(MailJob).values(not_before=now_utc()))  # its 30 s have passed
    db.session.commit()
    deliver_queued(app)
    assert len(smtp_server.messages) == 2
