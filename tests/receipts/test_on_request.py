"""Receipts on request: a gift below the organisation's threshold gets a receipt when the
treasurer issues one for the donor, or when the donor asks in the portal; it is numbered at
once and mailed (through a real SMTP server) though the thank-you went without it."""

from email.message import EmailMessage

from sqlalchemy import func, select, update

from legami.extensions import db
from legami.models import AuditEntry
from legami.timeutil import now_utc, today_rome
from mailing.models import MailJob
from payments.models import Method, Status
from receipts import issuing, pdf
from receipts.content import euros as format_money
from receipts.models import Delivery, Policy, Receipt
from tests import factories
from tests.conftest import deliver_queued
from tests.donors.test_portal import portal_login
from tests.receipts.conftest import card_gift, pdf_text, squeeze

CASH = "Versamento in contanti: non detraibile né deducibile."
THRESHOLD = 10_000


def _campaign(policy: Policy = Policy.PER_GIFT):
    """A campaign whose organisation receipts gifts from 100 EUR up (and smaller ones when
    asked), attaching the receipt to the thank-you."""
    campaign = factories.campaign()
    settings = issuing.settings_for(campaign.organisation_id)
    settings.threshold_cents = THRESHOLD
    settings.delivery = Delivery.ATTACH
    settings.policy = policy
    db.session.commit()
    return campaign


def _receipts() -> list[Receipt]:
    db.session.expire_all()
    return db.session.scalars(select(Receipt).order_by(Receipt.id)).all()


def _pdfs(message: EmailMessage) -> list[bytes]:
    return [
        part.get_content()
        for part in message.iter_attachments()
        if part.get_content_type() == "application/pdf"
    ]


def _mailed_after_the_thank_you(app, smtp_server) -> EmailMessage:
    """Store the PDF, make the waiting mail due, run the queue: the one new mail."""
    before = len(smtp_server.messages)
    pdf.render_due()
    db.session.execute(update(MailJob).values(not_before=now_utc()))
    db.session.commit()
    deliver_queued(app)
    [mail] = smtp_server.messages[before:]
    return mail


def _audit(action: str = "receipt.issue_on_request") -> list[AuditEntry]:
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def _thanked_without_receipt(app, client, smtp_server, campaign, amount_cents=2000, **kw):
    """A card gift under the threshold, thanked by mail with no receipt attached."""
    donation = card_gift(client, campaign, amount_cents=amount_cents, **kw)
    deliver_queued(app)
    [thanks] = smtp_server.messages
    assert _pdfs(thanks) == []
    assert _receipts() == []
    return donation


def test_the_treasurer_issues_a_receipt_for_a_gift_below_the_threshold(
    app, webhooks, client, english, login, smtp_server
):
    campaign = _campaign()
    donor = factories.donor(email="ada@example.org")
    donation = _thanked_without_receipt(app, client, smtp_server, campaign, donor=donor)
    year = donation.received_on.year
    treasurer = login("treasurer")

    reconciliation = client.get(f"/staff/receipts/exports/reconciliation?year={year}")
    listing_url = f"/staff/receipts/exports/reconciliation/below-threshold?year={year}"
    assert listing_url in reconciliation.text.replace("&amp;", "&")
    listing = client.get(listing_url)
    assert listing.status_code == 200
    action = f"/staff/receipts/gifts/{donation.id}/issue"
    assert action in listing.text and "Issue a receipt" in listing.text

    answer = client.post(action, data={"year": year})
    [receipt] = _receipts()
    assert answer.status_code == 302
    assert answer.location.endswith(f"/staff/receipts/{receipt.id}")
    assert receipt.donation_id == donation.id and receipt.amount_cents == 2000
    assert receipt.display_number == f"{receipt.year}/000001"
    assert f"Receipt {receipt.display_number} issued" in client.get(answer.location).text

    [entry] = _audit()
    assert entry.user_id == treasurer.id and entry.target == f"receipt:{receipt.id}"
    assert entry.detail["number"] == receipt.display_number
    assert entry.detail["donation"] == donation.id and entry.detail["by"] == "treasurer"

    mail = _mailed_after_the_thank_you(app, smtp_server)
    assert mail["To"] == "ada@example.org"
    assert receipt.display_number in mail["Subject"]
    [data] = _pdfs(mail)
    assert data == pdf.stored_bytes(receipt)
    text = pdf_text(data)
    assert receipt.display_number in text and squeeze(format_money(2000)) in text

    # The gift has its receipt: no longer listed, and a second click issues nothing.
    assert action not in client.get(listing_url).text
    again = client.post(action, data={"year": year}, follow_redirects=True)
    assert "This gift already has a valid receipt." in again.text
    assert len(_receipts()) == 1 and len(_audit()) == 1


def test_only_the_treasurer_issues_one(app, client, login):
    campaign = _campaign()
    donation = factories.donation(campaign=campaign, amount_cents=2000)
    login("staff")
    year = donation.received_on.year
    listing = client.get(f"/staff/receipts/exports/reconciliation/below-threshold?year={year}")
    assert listing.status_code == 403
    assert client.post(f"/staff/receipts/gifts/{donation.id}/issue").status_code == 403
    assert _receipts() == [] and _audit() == []


def test_the_treasurer_is_refused_a_gift_above_the_threshold(app, client, english, login):
    campaign = _campaign()
    donation = factories.donation(campaign=campaign, amount_cents=THRESHOLD)
    login("treasurer")
    answer = client.post(f"/staff/receipts/gifts/{donation.id}/issue", follow_redirects=True)
    assert "This gift gets its receipt without asking" in answer.text
    assert _receipts() == [] and _audit() == []


def test_the_donor_asks_in_the_portal_and_downloads_it(app, webhooks, client, english, smtp_server):
    campaign = _campaign()
    donor = factories.donor(email="bea@example.org")
    donation = _thanked_without_receipt(app, client, smtp_server, campaign, donor=donor)
    portal_login(app, client, donor)

    page = client.get("/portal/ricevute")
    assert "Ask for a receipt" in page.text and f'name="gift" value="{donation.id}"' in page.text

    answer = client.post("/portal/ricevute/richiesta", data={"gift": donation.id})
    assert answer.status_code == 302 and answer.location.endswith("/portal/ricevute")
    [receipt] = _receipts()
    assert receipt.donor_id == donor.id and receipt.amount_cents == 2000
    page = client.get("/portal/ricevute")
    assert f"Here is your receipt {receipt.display_number}" in page.text
    assert "Ask for a receipt" not in page.text
    download = client.get(f"/portal/ricevute/{receipt.id}.pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    text = pdf_text(download.data)
    assert receipt.display_number in text and squeeze(format_money(2000)) in text

    [entry] = _audit()
    assert entry.user_id is None and entry.detail["by"] == "portal"
    assert entry.detail["number"] == receipt.display_number

    mail = _mailed_after_the_thank_you(app, smtp_server)
    assert mail["To"] == "bea@example.org" and receipt.display_number in mail["Subject"]
    [data] = _pdfs(mail)
    assert receipt.display_number in pdf_text(data)

    # Asking twice (a double click) issues one receipt.
    again = client.post("/portal/ricevute/richiesta", data={"gift": donation.id})
    assert again.status_code == 302
    assert "This gift already has a valid receipt." in client.get("/portal/ricevute").text
    assert len(_receipts()) == 1 and len(_audit()) == 1
    assert (
        db.session.scalar(
            select(func.count()).select_from(MailJob).where(MailJob.kind == "receipt")
        )
        == 1
    )


def test_a_cash_gift_gets_a_receipt_saying_it_gives_no_benefit(app, client, english):
    campaign = _campaign()
    donation = factories.donation(
        campaign=campaign, amount_cents=3000, method=Method.CASH, deductible=False
    )
    portal_login(app, client, donation.donor)
    client.post("/portal/ricevute/richiesta", data={"gift": donation.id})
    [receipt] = _receipts()
    assert CASH in pdf_text(client.get(f"/portal/ricevute/{receipt.id}.pdf").data)


def test_the_portal_refuses_what_cannot_get_a_receipt(app, client, english):
    campaign = _campaign()
    donor = factories.donor()
    others = factories.donation(campaign=campaign, amount_cents=2000)
    pending = factories.donation(
        campaign=campaign, donor=donor, amount_cents=2000, status=Status.PENDING, received_on=None
    )
    above = factories.donation(campaign=campaign, donor=donor, amount_cents=THRESHOLD)
    annual = factories.donation(campaign=_campaign(Policy.ANNUAL), donor=donor, amount_cents=2000)
    portal_login(app, client, donor)
    assert "Ask for a receipt" not in client.get("/portal/ricevute").text

    for gift, message in [
        (others, "We found no such gift."),
        (pending, "Only a gift that has arrived can get a receipt."),
        (above, "This gift gets its receipt without asking"),
        (annual, "This organisation gives one annual receipt"),
    ]:
        answer = client.post("/portal/ricevute/richiesta", data={"gift": gift.id})
        assert answer.status_code == 302
        assert message in client.get("/portal/ricevute").text, gift
    assert _receipts() == [] and _audit() == []


def test_the_year_of_the_list_is_the_year_of_the_gifts(app, client, login):
    campaign = _campaign()
    factories.donation(campaign=campaign, amount_cents=2000)
    login("treasurer")
    url = "/staff/receipts/exports/reconciliation/below-threshold?year="
    assert "/issue" in client.get(f"{url}{today_rome().year}").text
    assert "/issue" not in client.get(f"{url}{today_rome().year - 1}").text
