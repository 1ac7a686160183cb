"""The public gift form never changes an existing donor: what the giver typed stays with the
gift, fills only the donor's empty fields once the gift succeeds, and the differing values
wait for staff as a suggestion they accept or reject (audited)."""

from datetime import date

import pytest
from sqlalchemy import func, select

from donors import erasure
from donors.models import Donor, DonorChange, DonorSuggestion
from legami.extensions import db
from legami.models import AuditEntry
from payments import transitions
from payments.models import Donation, GiftDetails, RecurringGift
from receipts import issuing
from receipts.models import Receipt
from tests import factories

CF = "RSSMRA85T10A562S"
ORIGINAL = {
    "kind": "person",
    "first_name": "Maria",
    "last_name": "Rossi",
    "organisation_name": "",
    "codice_fiscale": None,
    "partita_iva": None,
    "street": "Via Roma 1",
    "postal_code": "",
    "town": "Cremona",
    "province": "",
    "language": "it",
}

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def donor():
    return factories.donor(email="maria.rossi@example.org", **ORIGINAL)


def _record(donor_id: int) -> dict:
    db.session.expire_all()
    found = db.session.get(Donor, donor_id)
    return {name: getattr(found, name) for name in ORIGINAL}


def _give(client, campaign, **typed) -> Donation:
    data = {
        "amount": "other",
        "other_amount": "40",
        "frequency": "one_off",
        "method": "bank_transfer",
        "donor_kind": "person",
        "email": "Maria.Rossi@Example.org",
        "first_name": "Mario",
        "last_name": "Bianchi",
        "street": "Via Falsa 2",
        "postal_code": "26013",
        "town": "Crema",
        "province": "cr",
        "tax_code": CF,
        **typed,
    }
    answer = client.post(f"/campagne/{campaign.slug}/dona", data=data)
    assert answer.status_code == 302, answer.text
    return db.session.scalar(select(Donation).order_by(Donation.id.desc()))


def _confirm(client, donation: Donation):
    answer = client.post(
        f"/staff/donations/{donation.id}/confirm",
        data={"received_on": "2026-11-20", "confirmed": "1"},
    )
    assert answer.status_code == 302


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_an_unpaid_gift_changes_nothing_and_keeps_what_was_typed(client, donor):
    campaign = factories.campaign()
    gift = _give(client, campaign)
    assert gift.donor_id == donor.id and gift.status == "pending"
    assert _record(donor.id) == ORIGINAL
    assert _count(DonorChange) == 0 and _count(DonorSuggestion) == 0
    kept = db.session.scalar(select(GiftDetails).where(GiftDetails.donation_id == gift.id))
    assert (kept.first_name, kept.last_name, kept.street, kept.town) == (
        "Mario",
        "Bianchi",
        "Via Falsa 2",
        "Crema",
    )
    assert (kept.postal_code, kept.province, kept.codice_fiscale, kept.applied_at) == (
        "26013",
        "CR",
        CF,
        None,
    )


def test_success_fills_empty_fields_and_suggests_the_rest(client, login, donor):
    campaign = factories.campaign()
    gift = _give(client, campaign)
    staff = login("staff", "treasurer")
    _confirm(client, gift)
    _confirm(client, gift)  # a repeat applies nothing twice

    record = _record(donor.id)
    assert record == {**ORIGINAL, "postal_code": "26013", "province": "CR", "codice_fiscale": CF}
    filled = {
        (c.field, c.old_value, c.new_value, c.source)
        for c in db.session.scalars(select(DonorChange))
    }
    assert filled == {
        ("postal_code", "", "26013", f"gift:{gift.id}"),
        ("province", "", "CR", f"gift:{gift.id}"),
        ("codice_fiscale", "", CF, f"gift:{gift.id}"),
    }
    [suggestion] = db.session.scalars(select(DonorSuggestion)).all()
    assert suggestion.status == "pending" and suggestion.source == f"gift:{gift.id}"
    assert suggestion.values == {
        "first_name": "Mario",
        "last_name": "Bianchi",
        "street": "Via Falsa 2",
        "town": "Crema",
    }

    # The receipt is the donor's record as it stands, not what the form said.
    issuing.issue_due()
    receipt = db.session.scalar(select(Receipt))
    assert receipt.snapshot["donor"]["name"] == "Maria Rossi"
    assert receipt.snapshot["donor"]["address"] == "Via Roma 1, 26013 Cremona (CR)"

    page = client.get(f"/staff/donors/{donor.id}").text
    assert "Suggested changes" in page and "Via Falsa 2" in page and "Bianchi" in page

    answer = client.post(f"/staff/donors/{donor.id}/suggestions/{suggestion.id}/accept")
    assert answer.status_code == 302
    record = _record(donor.id)
    assert (record["first_name"], record["last_name"], record["street"], record["town"]) == (
        "Mario",
        "Bianchi",
        "Via Falsa 2",
        "Crema",
    )
    staff_changes = db.session.scalars(
        select(DonorChange.field).where(DonorChange.source == f"staff:{staff.email}")
    ).all()
    assert sorted(staff_changes) == ["first_name", "last_name", "street", "town"]
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "donor.suggestion.accept")
    ).all()
    assert entry.user_id == staff.id and entry.target == f"donor:{donor.id}"
    assert sorted(entry.detail["changed"]) == ["first_name", "last_name", "street", "town"]
    db.session.expire_all()
    decided = db.session.get(DonorSuggestion, suggestion.id)
    assert (decided.status, decided.decided_by_id) == ("accepted", staff.id)
    assert "Suggested changes" not in client.get(f"/staff/donors/{donor.id}").text

    # Accepting twice changes nothing more.
    client.post(f"/staff/donors/{donor.id}/suggestions/{suggestion.id}/accept")
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "donor.suggestion.accept")
        )
        == 1
    )


def test_staff_reject_a_suggestion_and_the_record_stays(client, login, donor):
    campaign = factories.campaign()
    gift = _give(client, campaign, tax_code="")
    staff = login("staff", "treasurer")
    _confirm(client, gift)
    [suggestion] = db.session.scalars(select(DonorSuggestion)).all()
    answer = client.post(f"/staff/donors/{donor.id}/suggestions/{suggestion.id}/reject")
    assert answer.status_code == 302
    assert _record(donor.id) == {**ORIGINAL, "postal_code": "26013", "province": "CR"}
    db.session.expire_all()
    assert db.session.get(DonorSuggestion, suggestion.id).status == "rejected"
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "donor.suggestion.reject")
    ).all()
    assert entry.user_id == staff.id


def test_only_staff_decide(client, login, donor):
    campaign = factories.campaign()
    gift = _give(client, campaign)
    login("treasurer")
    _confirm(client, gift)
    [suggestion] = db.session.scalars(select(DonorSuggestion)).all()
    answer = client.post(f"/staff/donors/{donor.id}/suggestions/{suggestion.id}/accept")
    assert answer.status_code == 403
    assert _record(donor.id)["last_name"] == "Rossi"


def test_the_same_details_written_otherwise_suggest_nothing(client, login, donor):
    campaign = factories.campaign()
    gift = _give(
        client,
        campaign,
        first_name="MARIA",
        last_name="rossi ",
        street="via  roma 1",
        town="Cremona",
        tax_code="",
        postal_code="",
        province="",
    )
    login("treasurer")
    _confirm(client, gift)
    assert _count(DonorSuggestion) == 0 and _count(DonorChange) == 0
    assert _record(donor.id) == ORIGINAL


def test_giving_as_a_company_fills_nothing_of_the_person(client, login, donor):
    campaign = factories.campaign()
    gift = _give(
        client,
        campaign,
        donor_kind="organisation",
        organisation_name="Ditta Srl",
        first_name="",
        last_name="",
        tax_code="01234560199",
    )
    login("treasurer")
    _confirm(client, gift)
    assert _record(donor.id) == ORIGINAL
    [suggestion] = db.session.scalars(select(DonorSuggestion)).all()
    assert suggestion.values["kind"] == "organisation"
    assert suggestion.values["organisation_name"] == "Ditta Srl"
    assert suggestion.values["postal_code"] == "26013"


def test_a_new_donor_is_made_from_the_form(client, login):
    campaign = factories.campaign()
    gift = _give(client, campaign, email="nuova@example.org")
    created = db.session.get(Donor, gift.donor_id)
    assert (created.first_name, created.last_name, created.codice_fiscale) == (
        "Mario",
        "Bianchi",
        CF,
    )
    login("treasurer")
    _confirm(client, gift)
    assert _count(DonorSuggestion) == 0


def test_a_monthly_gift_applies_its_details_once(app, donor):
    """The first paid invoice of a monthly gift brings the details; later ones nothing."""
    campaign = factories.campaign()
    monthly = RecurringGift(donor=donor, campaign=campaign, amount_cents=1000)
    db.session.add(monthly)
    db.session.add(
        GiftDetails(
            recurring_gift=monthly,
            kind="person",
            first_name="Maria",
            last_name="Rossi",
            postal_code="26100",
            town="Crema",
        )
    )
    db.session.commit()
    for day in (date(2026, 10, 1), date(2026, 11, 1)):
        invoice = factories.donation(
            campaign=campaign,
            donor=donor,
            amount_cents=1000,
            status="pending",
            received_on=None,
            recurring_gift_id=monthly.id,
        )
        transitions.send(transitions.mark_succeeded(invoice.id, received_on=day))
        db.session.commit()
    assert _record(donor.id) == {**ORIGINAL, "postal_code": "26100"}
    [suggestion] = db.session.scalars(select(DonorSuggestion)).all()
    assert suggestion.values == {"town": "Crema"}


def test_forgetting_the_donor_removes_what_was_typed_and_suggested(client, login, donor):
    campaign = factories.campaign()
    gift = _give(client, campaign)
    login("treasurer")
    _confirm(client, gift)
    assert (_count(GiftDetails), _count(DonorSuggestion)) == (1, 1)
    removed = erasure.forget(donor.id, None, today=date(2026, 12, 1), years=10)
    db.session.commit()
    assert (removed["gift_details"], removed["suggestions"]) == (1, 1)
    assert (_count(GiftDetails), _count(DonorSuggestion)) == (0, 0)
    assert db.session.get(Donation, gift.id).amount_cents == 4000  # the gift itself stays
