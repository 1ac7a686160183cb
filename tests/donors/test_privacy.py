"""Forgetting a donor, the per-donor GDPR export, and the retention review."""

import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from campaigns.models import Campaign
from donors import dedupe
from donors.identity import normalise_email
from donors.models import (
    ConsentAction,
    ConsentEvent,
    ConsentPurpose,
    ConsentSource,
    Donor,
    DonorChange,
    DonorEmail,
    DonorMerge,
    Interaction,
    InteractionKind,
    Suppression,
    SuppressionReason,
    Tag,
    donor_tags,
    email_hash,
    fold,
)
from legami.extensions import db
from legami.models import AuditEntry
from legami.timeutil import now_utc, today_rome
from mailing.models import Delivery, DeliveryStatus, MailJob, Newsletter
from payments.models import Donation, RecurringGift, RecurringStatus
from receipts.models import Receipt
from tests import factories

T0 = datetime(2024, 3, 1, 9, tzinfo=UTC)


# These tests read the pages' English wording.
pytestmark = pytest.mark.usefixtures("english")


def _rich_donor(campaign):
    donor = factories.donor(
        first_name="Giulia",
        last_name="Ferrari",
        email="giulia.ferrari@example.org",
        phone="0372 111222",
        codice_fiscale="FRRGLI80A41D150K",
        street="Via Solferino 4",
        postal_code="26100",
        town="Cremona",
        province="CR",
        notes="Sister of a volunteer.",
        newsletter_consent=True,
    )
    donor.tags = [Tag(name="volunteer")]
    db.session.add_all(
        [
            DonorEmail(donor_id=donor.id, email="gf@work.example.org"),
            DonorChange(
                donor_id=donor.id,
                field="town",
                old_value="Crema",
                new_value="Cremona",
                source="form",
            ),
            Interaction(
                donor_id=donor.id,
                kind=InteractionKind.MEETING,
                occurred_on=date(2024, 4, 2),
                summary="Talked about her mother's illness.",
            ),
            ConsentEvent(
                donor_id=donor.id,
                action=ConsentAction.GRANTED,
                source=ConsentSource.FORM,
                ip="192.0.2.7",
                notice_version="2024-01",
                occurred_at=T0,
            ),
        ]
    )
    db.session.commit()
    gifts = [
        factories.donation(
            donor=donor, campaign=campaign, amount_cents=cents, dedication="In memory of Carlo"
        )
        for cents in (5000, 2500)
    ]
    db.session.add(MailJob(kind="thanks", donation_id=gifts[0].id, sent_at=T0))
    db.session.add(
        Receipt(
            organisation_id=campaign.organisation_id,
            year=today_rome().year,
            number=7,
            display_number=f"{today_rome().year}/000007",
            donor_id=donor.id,
            donation_id=gifts[0].id,
            amount_cents=5000,
            snapshot={"donor": {"name": "Giulia Ferrari", "codice_fiscale": "FRRGLI80A41D150K"}},
        )
    )
    db.session.add(MailJob(kind="portal_link", donor_id=donor.id))
    db.session.commit()
    return donor


def test_forgetting_removes_personal_data_and_keeps_gifts_and_totals(client, login):
    user = login("staff")
    campaign = factories.campaign(raised_cents=7500, gift_count=2)
    donor = _rich_donor(campaign)
    donor_id = donor.id
    addresses = ["giulia.ferrari@example.org", "gf@work.example.org"]

    page = client.get(f"/staff/donors/{donor_id}/forget")
    assert page.status_code == 200 and "Giulia Ferrari" in page.text
    unconfirmed = client.post(f"/staff/donors/{donor_id}/forget", data={})
    assert unconfirmed.status_code == 422
    assert db.session.get(Donor, donor_id).erased_at is None

    response = client.post(
        f"/staff/donors/{donor_id}/forget",
        data={"confirm": "y", "request_note": "e-mail of 3 March"},
    )
    assert response.status_code == 302, response.text
    assert response.headers["Location"].endswith(f"/staff/donors/{donor_id}")
    record = client.get(f"/staff/donors/{donor_id}")
    assert "Giulia" not in record.text and "Forgotten on" in record.text
    assert f"/staff/donors/{donor_id}/gdpr-export" in record.text
    assert f"/staff/donors/{donor_id}/forget" not in record.text

    donor = db.session.get(Donor, donor_id)
    assert donor.is_erased
    assert donor.email == f"forgotten-{donor_id}@legami.invalid"
    assert "giulia" not in donor.display_name.casefold()
    assert (donor.phone, donor.street, donor.postal_code, donor.town, donor.notes) == ("",) * 5
    # She gave this year: the gift records need her codice fiscale for the tax reports.
    assert donor.codice_fiscale == "FRRGLI80A41D150K"
    assert donor.newsletter_consent is False and donor.report_back_opt_out is True
    assert donor.emails == [] and donor.tags == [] and donor.changes == []
    assert db.session.scalar(select(func.count()).select_from(Interaction)) == 0
    assert db.session.scalar(select(func.count()).select_from(donor_tags)) == 0
    assert not db.session.scalar(
        select(func.count()).select_from(Donor).where(Donor.name_key.contains(fold("Ferrari")))
    )
    for address in addresses:
        suppression = db.session.scalar(
            select(Suppression).where(
                Suppression.email_hash == email_hash(normalise_email(address))
            )
        )
        assert suppression.reason == SuppressionReason.ERASURE
    events = db.session.scalars(
        select(ConsentEvent).where(ConsentEvent.donor_id == donor_id).order_by(ConsentEvent.id)
    ).all()
    assert [e.ip for e in events] == ["", "", ""]
    assert {(e.purpose, e.action, e.source) for e in events[1:]} == {
        (ConsentPurpose.NEWSLETTER, ConsentAction.WITHDRAWN, ConsentSource.ERASURE),
        (ConsentPurpose.REPORT_BACK, ConsentAction.WITHDRAWN, ConsentSource.ERASURE),
    }

    gifts = db.session.scalars(select(Donation).where(Donation.donor_id == donor_id)).all()
    assert sorted(g.amount_cents for g in gifts) == [2500, 5000]
    assert {g.dedication for g in gifts} == {""}
    assert db.session.get(Campaign, campaign.id).raised_cents == 7500
    # The issued receipt is an accounting record kept as it was issued.
    receipt = db.session.scalar(select(Receipt))
    assert receipt.donor_id == donor_id and receipt.status == "issued"
    assert receipt.snapshot["donor"]["name"] == "Giulia Ferrari"
    # The mail already sent stays as a record; the one waiting is not sent to anybody.
    assert [m.kind for m in db.session.scalars(select(MailJob))] == ["thanks"]

    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "donor.erase"))
    assert entry.user_id == user.id and entry.target == f"donor:{donor_id}"
    assert entry.detail["request"] == "e-mail of 3 March"
    assert "giulia" not in json.dumps(entry.detail).casefold()

    again = client.get(f"/staff/donors/{donor_id}/forget")
    assert again.status_code == 302


def test_without_gifts_in_the_retention_period_the_tax_code_goes_too(client, login):
    login("staff")
    old = today_rome() - timedelta(days=11 * 366)
    donor = factories.donor(codice_fiscale="RSSMRA80A01D150U", partita_iva="01234567890")
    factories.donation(donor=donor, received_on=old)
    donor_id = donor.id
    response = client.post(f"/staff/donors/{donor_id}/forget", data={"confirm": "y"})
    assert response.status_code == 302
    donor = db.session.get(Donor, donor_id)
    assert (donor.codice_fiscale, donor.partita_iva) == (None, None)


def test_forgetting_clears_the_donor_from_newsletter_deliveries(client, login):
    login("staff")
    donor = factories.donor(email="giulia@example.org", first_name="Giulia")
    newsletter = Newsletter(organisation=factories.organisation(), title="Notizie")
    earlier = Newsletter(organisation=newsletter.organisation, title="Prima")
    db.session.add_all([newsletter, earlier])
    db.session.flush()
    db.session.add_all(
        [
            Delivery(
                newsletter_id=earlier.id,
                donor_id=donor.id,
                email=donor.email,
                first_name="Giulia",
                status=DeliveryStatus.SENT,
                sent_at=now_utc(),
            ),
            Delivery(
                newsletter_id=newsletter.id,
                donor_id=donor.id,
                email=donor.email,
                first_name="Giulia",
            ),
        ]
    )
    db.session.commit()
    assert client.post(f"/staff/donors/{donor.id}/forget", data={"confirm": "y"}).status_code == 302
    rows = db.session.execute(
        select(
            Delivery.newsletter_id, Delivery.email, Delivery.first_name, Delivery.status
        ).order_by(Delivery.newsletter_id)
    ).all()
    gone = f"forgotten-{donor.id}@legami.invalid"
    assert rows == [
        (newsletter.id, gone, "", "failed"),
        (earlier.id, gone, "", "sent"),
    ]


def test_a_donor_with_a_running_monthly_gift_is_not_forgotten(client, login):
    login("staff")
    donor = factories.donor(first_name="Luca", last_name="Neri")
    campaign = factories.campaign()
    db.session.add(
        RecurringGift(
            donor_id=donor.id,
            campaign_id=campaign.id,
            amount_cents=1000,
            status=RecurringStatus.ACTIVE,
        )
    )
    db.session.commit()
    response = client.post(f"/staff/donors/{donor.id}/forget", data={"confirm": "y"})
    assert response.status_code == 422
    assert "Stop the donor" in response.text
    donor = db.session.get(Donor, donor.id)
    assert donor.last_name == "Neri" and donor.erased_at is None
    assert db.session.scalar(select(func.count()).select_from(Suppression)) == 0


def test_a_forgotten_donor_leaves_duplicates_and_merge_snapshots(client, login):
    login("staff")
    survivor = factories.donor(first_name="Anna", last_name="Galli", postal_code="26100")
    twin = factories.donor(first_name="Anna", last_name="Galli", postal_code="26100")
    third = factories.donor(first_name="ANNA", last_name="GALLI", postal_code="26100")
    ids = survivor.id, twin.id, third.id
    merged = client.post(f"/staff/donors/merge/{ids[0]}/{ids[1]}", data={"survivor": ids[0]})
    assert merged.status_code == 302
    assert db.session.scalar(select(DonorMerge.snapshot))["last_name"] == "Galli"
    assert [(c.first.id, c.second.id) for c in dedupe.candidates_for(ids[0])] == [(ids[0], ids[2])]

    assert client.post(f"/staff/donors/{ids[0]}/forget", data={"confirm": "y"}).status_code == 302
    assert db.session.scalar(select(DonorMerge.snapshot)) == {}
    assert dedupe.candidates_for(ids[2]) == []


def test_gdpr_export_holds_everything_about_the_donor(client, login):
    user = login("staff")
    campaign = factories.campaign(title="Doposcuola")
    donor = _rich_donor(campaign)
    db.session.add(
        RecurringGift(
            donor_id=donor.id,
            campaign_id=campaign.id,
            amount_cents=1000,
            status=RecurringStatus.CANCELLED,
        )
    )
    merged = factories.donor(email="giulia.old@example.org", last_name="Ferrari")
    db.session.commit()
    donor_id = donor.id
    assert (
        client.post(
            f"/staff/donors/merge/{donor_id}/{merged.id}", data={"survivor": donor_id}
        ).status_code
        == 302
    )

    response = client.get(f"/staff/donors/{donor_id}/gdpr-export")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert f"donor-{donor_id}-gdpr.zip" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.namelist() == ["donor.json"]
    data = json.loads(archive.read("donor.json"))

    assert data["donor"]["email"] == "giulia.ferrari@example.org"
    assert data["donor"]["codice_fiscale"] == "FRRGLI80A41D150K"
    assert data["donor"]["notes"] == "Sister of a volunteer."
    assert datetime.fromisoformat(data["donor"]["created_at"]).tzinfo is not None
    assert {e["email"] for e in data["emails"]} == {"gf@work.example.org", "giulia.old@example.org"}
    assert data["tags"] == ["volunteer"]
    assert data["interactions"][0]["summary"] == "Talked about her mother's illness."
    assert data["interactions"][0]["occurred_on"] == "2024-04-02"
    consent = data["consent_history"][0]
    assert (consent["action"], consent["ip"], consent["notice_version"]) == (
        "granted",
        "192.0.2.7",
        "2024-01",
    )
    assert consent["occurred_at"] == "2024-03-01T09:00:00+00:00"
    assert {(c["field"], c["new_value"]) for c in data["field_changes"]} >= {("town", "Cremona")}
    assert sorted(g["amount_cents"] for g in data["gifts"]) == [2500, 5000]
    assert {g["campaign"] for g in data["gifts"]} == {"Doposcuola"}
    assert data["gifts"][0]["received_on"] == today_rome().isoformat()
    assert data["recurring_gifts"][0]["status"] == "cancelled"
    assert {(m["kind"], m["sent_at"]) for m in data["mails"]} == {
        ("thanks", "2024-03-01T09:00:00+00:00"),
        ("portal_link", None),
    }
    assert data["merges"][0]["snapshot"]["email"] == "giulia.old@example.org"
    assert set(data) >= {"portal_links", "imports", "exported_at"}
    # Tables the export does not know by name (receipts here) come along under "other".
    assert data["other"]["receipts"][0]["display_number"].endswith("/000007")

    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "donor.gdpr_export"))
    assert entry.user_id == user.id and entry.target == f"donor:{donor_id}"


def test_retention_review_lists_donors_idle_for_the_years_asked(client, login, app):
    login("staff")
    long_ago = now_utc() - timedelta(days=12 * 366)
    today = today_rome()
    idle = factories.donor(last_name="Idle", created_at=long_ago)
    factories.donation(donor=idle, received_on=today - timedelta(days=11 * 366))
    gave = factories.donor(last_name="Gave", created_at=long_ago)
    factories.donation(donor=gave, received_on=today - timedelta(days=30))
    met = factories.donor(last_name="Met", created_at=long_ago)
    db.session.add(
        Interaction(
            donor_id=met.id, kind=InteractionKind.CALL, occurred_on=today, summary="Called."
        )
    )
    consented = factories.donor(last_name="Consented", created_at=long_ago)
    db.session.add(
        ConsentEvent(
            donor_id=consented.id,
            action=ConsentAction.WITHDRAWN,
            source=ConsentSource.UNSUBSCRIBE,
        )
    )
    factories.donor(last_name="Newcomer")
    factories.donor(last_name="Gone", created_at=long_ago, erased_at=now_utc())
    db.session.commit()

    page = client.get("/staff/donors/retention")
    assert page.status_code == 200
    for name in ("Gave", "Met", "Consented", "Newcomer", "Gone"):
        assert f"Maria {name}" not in page.text
    assert "Maria Idle" in page.text
    assert f"/staff/donors/{idle.id}/forget" in page.text
    assert "1 donor" in page.text and "1 donors" not in page.text  # singular

    assert "Maria Idle" not in client.get("/staff/donors/retention?years=13").text
    app.config["DONOR_RETENTION_YEARS"] = 13
    assert "Maria Idle" not in client.get("/staff/donors/retention").text
    assert "Maria Idle" in client.get("/staff/donors/retention?years=5").text
    refused = client.get("/staff/donors/retention?years=0")
    assert "Years must be a whole number" in refused.text and "Maria Idle" not in refused.text


def test_privacy_pages_are_for_staff_and_admin(client, login):
    donor = factories.donor()
    donor_id = donor.id
    urls = [
        f"/staff/donors/{donor_id}/forget",
        f"/staff/donors/{donor_id}/gdpr-export",
        "/staff/donors/retention",
    ]
    for url in urls:
        assert "/staff/login" in client.get(url).headers["Location"]
    login("treasurer")
    for url in urls:
        assert client.get(url).status_code == 403
    assert client.post(urls[0], data={"confirm": "y"}).status_code == 403
    assert db.session.get(Donor, donor_id).erased_at is None
    client.post("/staff/logout")
    login("admin")
    for url in urls:
        assert client.get(url).status_code == 200
    assert urls[0] in client.get(f"/staff/donors/{donor_id}").text
