"""Duplicate candidates and merging two donor records into one."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from donors import dedupe
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
    PortalToken,
    Tag,
)
from legami.extensions import db
from legami.models import AuditEntry
from mailing.models import MailJob
from payments.models import Donation, RecurringGift, RecurringStatus
from receipts.models import Receipt
from tests import factories

T0 = datetime(2024, 3, 1, 9, tzinfo=UTC)


# These tests read the pages' English wording.
pytestmark = pytest.mark.usefixtures("english")


def _consent(donor, action, at, purpose=ConsentPurpose.NEWSLETTER):
    db.session.add(
        ConsentEvent(
            donor_id=donor.id,
            purpose=purpose,
            action=action,
            source=ConsentSource.FORM,
            occurred_at=at,
        )
    )


def _tag(name):
    tag = db.session.scalar(select(Tag).where(Tag.name == name))
    return tag or Tag(name=name)


def _pair():
    """Two records of one person, each with gifts and history of its own."""
    campaign = factories.campaign()
    keep = factories.donor(
        first_name="Nicolò",
        last_name="Rossi",
        email="nicolo@example.org",
        postal_code="26100",
        notes="Met at the fair.",
        newsletter_consent=True,
    )
    other = factories.donor(
        first_name="NICOLO",
        last_name="ROSSI",
        email="n.rossi@example.org",
        postal_code="26100",
        phone="0372 123456",
        codice_fiscale="RSSNCL80A01D150X",
        notes="Prefers letters.",
        created_at=T0 - timedelta(days=400),
    )
    factories.donation(donor=keep, campaign=campaign, amount_cents=1000)
    for cents in (2000, 3000):
        gift = factories.donation(donor=other, campaign=campaign, amount_cents=cents)
    db.session.add(
        Receipt(
            organisation_id=campaign.organisation_id,
            year=2024,
            number=1,
            display_number="2024/000001",
            donor_id=other.id,
            donation_id=gift.id,
            amount_cents=gift.amount_cents,
            snapshot={"donor": {"name": "NICOLO ROSSI"}},
        )
    )
    db.session.add(
        RecurringGift(
            donor_id=other.id,
            campaign_id=campaign.id,
            amount_cents=1500,
            status=RecurringStatus.ACTIVE,
        )
    )
    keep.tags = [_tag("volunteer"), _tag("newsletter-2024")]
    other.tags = [_tag("newsletter-2024"), _tag("major")]
    _consent(keep, ConsentAction.GRANTED, T0)
    _consent(other, ConsentAction.WITHDRAWN, T0 + timedelta(days=30))
    db.session.add(
        Interaction(
            donor_id=other.id,
            kind=InteractionKind.CALL,
            occurred_on=date(2024, 5, 2),
            summary="Thanked.",
        )
    )
    db.session.add(DonorEmail(donor_id=other.id, email="nicolo.work@example.org"))
    db.session.add(
        DonorChange(donor_id=other.id, field="town", old_value="", new_value="Crema", source="form")
    )
    db.session.add(MailJob(kind="portal_link", donor_id=other.id))
    db.session.add(
        PortalToken(donor_id=other.id, token_hash="a" * 64, expires_at=T0 + timedelta(hours=1))
    )
    db.session.commit()
    return keep, other, campaign


def test_merge_moves_everything_to_the_survivor_and_records_it(client, login):
    user = login("staff")
    keep, other, campaign = _pair()
    keep_id, other_id = keep.id, other.id

    page = client.get(f"/staff/donors/merge/{keep_id}/{other_id}")
    assert page.status_code == 200
    assert "0372 123456" in page.text and "Prefers letters." in page.text

    response = client.post(
        f"/staff/donors/merge/{keep_id}/{other_id}",
        data={
            "survivor": keep_id,
            "first_name": keep_id,
            "last_name": keep_id,
            "email": keep_id,
            "phone": other_id,
            "codice_fiscale": other_id,
        },
    )
    assert response.status_code == 302, response.text
    assert response.headers["Location"].endswith(f"/staff/donors/{keep_id}")

    assert db.session.get(Donor, other_id) is None
    survivor = db.session.get(Donor, keep_id)
    assert (survivor.first_name, survivor.last_name) == ("Nicolò", "Rossi")
    assert survivor.phone == "0372 123456"
    assert survivor.codice_fiscale == "RSSNCL80A01D150X"
    assert survivor.email == "nicolo@example.org"
    assert {e.email for e in survivor.emails} == {"n.rossi@example.org", "nicolo.work@example.org"}
    assert survivor.notes == "Met at the fair.\n\nPrefers letters."
    assert sorted(t.name for t in survivor.tags) == ["major", "newsletter-2024", "volunteer"]
    # The latest consent event of either record decides: the withdrawal came later.
    assert survivor.newsletter_consent is False
    assert survivor.created_at == T0 - timedelta(days=400)

    gifts = db.session.scalars(select(Donation).where(Donation.campaign_id == campaign.id)).all()
    assert {g.donor_id for g in gifts} == {keep_id}
    assert sorted(g.amount_cents for g in gifts) == [1000, 2000, 3000]
    assert db.session.scalar(select(RecurringGift.donor_id)) == keep_id
    assert (
        db.session.scalar(
            select(func.count()).select_from(ConsentEvent).where(ConsentEvent.donor_id == keep_id)
        )
        == 2
    )
    assert db.session.scalar(select(Interaction.donor_id)) == keep_id
    assert db.session.scalar(select(MailJob.donor_id)) == keep_id
    assert db.session.scalar(select(PortalToken.donor_id)) == keep_id
    receipt = db.session.scalar(select(Receipt))
    assert receipt.donor_id == keep_id
    assert receipt.snapshot == {"donor": {"name": "NICOLO ROSSI"}}  # as issued, never edited
    changes = {(c.field, c.new_value) for c in survivor.changes}
    assert ("town", "Crema") in changes  # the merged record's history moved
    assert ("phone", "0372 123456") in changes  # and the merge's own choices are history

    record = db.session.scalar(select(DonorMerge))
    assert (record.survivor_id, record.merged_donor_id, record.merged_by_id) == (
        keep_id,
        other_id,
        user.id,
    )
    assert record.snapshot["email"] == "n.rossi@example.org"
    assert record.snapshot["phone"] == "0372 123456"
    assert record.snapshot["emails"] == ["nicolo.work@example.org"]
    assert sorted(record.snapshot["tags"]) == ["major", "newsletter-2024"]
    assert record.choices["survivor"] == keep_id
    assert record.choices["phone"] == other_id
    assert record.moved == {
        "consent_events": 1,
        "donations": 2,
        "donor_changes": 1,
        "donor_emails": 1,
        "donor_tags": 1,  # "newsletter-2024" was on both: kept once
        "interactions": 1,
        "mail_jobs": 1,
        "portal_tokens": 1,
        "receipts": 1,
        "recurring_gifts": 1,
    }
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "donor.merge"))
    assert entry.user_id == user.id and entry.detail["merged"] == other_id


def test_the_merged_records_address_can_become_the_primary(client, login):
    login("staff")
    keep = factories.donor(email="old@example.org")
    other = factories.donor(email="new@example.org")
    db.session.add(DonorEmail(donor_id=keep.id, email="spare@example.org"))
    _consent(keep, ConsentAction.WITHDRAWN, T0)
    _consent(other, ConsentAction.GRANTED, T0 + timedelta(days=1))
    db.session.commit()
    keep_id, other_id = keep.id, other.id

    response = client.post(
        f"/staff/donors/merge/{other_id}/{keep_id}",
        data={"survivor": keep_id, "email": other_id, "last_name": keep_id},
    )
    assert response.status_code == 302, response.text
    survivor = db.session.get(Donor, keep_id)
    assert survivor.email == "new@example.org"
    assert {e.email for e in survivor.emails} == {"old@example.org", "spare@example.org"}
    assert survivor.newsletter_consent is True


def test_an_earlier_merge_record_follows_the_merged_donor(client, login):
    login("staff")
    a, b, c = factories.donor(), factories.donor(), factories.donor()
    a_id, b_id, c_id = a.id, b.id, c.id
    assert (
        client.post(f"/staff/donors/merge/{b_id}/{c_id}", data={"survivor": b_id}).status_code
        == 302
    )
    assert (
        client.post(f"/staff/donors/merge/{a_id}/{b_id}", data={"survivor": a_id}).status_code
        == 302
    )
    records = db.session.scalars(select(DonorMerge).order_by(DonorMerge.id)).all()
    assert [(r.survivor_id, r.merged_donor_id) for r in records] == [(a_id, c_id), (a_id, b_id)]
    # b had kept c's address as a further one: it moves too.
    assert records[1].moved == {"donor_merges": 1, "donor_emails": 1}


def test_a_merge_that_would_leave_no_name_is_refused_and_changes_nothing(client, login):
    login("staff")
    person = factories.donor()
    organisation = factories.donor(kind="organisation", last_name="", organisation_name="Coop Sole")
    ids = person.id, organisation.id
    response = client.post(
        f"/staff/donors/merge/{ids[0]}/{ids[1]}",
        data={"survivor": ids[0], "kind": ids[1], "organisation_name": ids[0], "last_name": ids[0]},
    )
    assert response.status_code == 422
    assert "An organisation needs its name." in response.text
    assert db.session.get(Donor, ids[1]) is not None
    assert db.session.scalar(select(func.count()).select_from(DonorMerge)) == 0


def test_merging_a_donor_with_itself_or_a_forgotten_one_is_not_found(client, login):
    login("staff")
    donor = factories.donor()
    forgotten = factories.donor(erased_at=T0)
    assert client.get(f"/staff/donors/merge/{donor.id}/{donor.id}").status_code == 404
    assert client.get(f"/staff/donors/merge/{donor.id}/{forgotten.id}").status_code == 404
    assert client.get(f"/staff/donors/merge/{donor.id}/999999").status_code == 404


def _reasons():
    return {
        (c.first.id, c.second.id): set(c.reasons)
        for c in dedupe._as_candidates(db.session.execute(dedupe.candidates_query()).all())
    }


def test_duplicates_by_each_rule_accents_and_case_aside(app):
    by_name = factories.donor(first_name="Nicolò", last_name="Rossi", postal_code="26100")
    by_name_too = factories.donor(first_name="NICOLO", last_name="ROSSI", postal_code="26100")
    elsewhere = factories.donor(first_name="Nicolo", last_name="Rossi", postal_code="26013")
    primary = factories.donor(email="anna@example.org")
    with_extra = factories.donor()
    db.session.add(DonorEmail(donor_id=with_extra.id, email="anna@example.org"))
    cf = factories.donor(codice_fiscale="RSSMRA80A01D150U")
    cf_too = factories.donor(codice_fiscale="RSSMRA80A01D150U")
    other_cf = factories.donor(codice_fiscale="BNCNNA80A41D150Q")
    no_cf = [factories.donor(codice_fiscale=""), factories.donor(codice_fiscale="")]
    forgotten = factories.donor(
        first_name="Nicolò", last_name="Rossi", postal_code="26100", erased_at=T0
    )
    db.session.commit()

    reasons = _reasons()
    assert reasons == {
        (by_name.id, by_name_too.id): {dedupe.Reason.NAME_POSTAL_CODE},
        (primary.id, with_extra.id): {dedupe.Reason.EMAIL},
        (cf.id, cf_too.id): {dedupe.Reason.CODICE_FISCALE},
    }
    listed = {i for pair in reasons for i in pair}
    assert not listed & {elsewhere.id, forgotten.id, other_cf.id}
    assert not listed & {d.id for d in no_cf}


def test_a_pair_matching_several_rules_is_listed_once_with_every_reason(client, login):
    login("staff")
    a = factories.donor(
        first_name="Anna",
        last_name="Bianchi",
        postal_code="26100",
        codice_fiscale="BNCNNA80A41D150Q",
    )
    b = factories.donor(
        first_name="Anna",
        last_name="Bianchi",
        postal_code="26100",
        codice_fiscale="BNCNNA80A41D150Q",
    )
    db.session.add(DonorEmail(donor_id=b.id, email=a.email))
    db.session.commit()
    assert _reasons() == {
        (a.id, b.id): {
            dedupe.Reason.EMAIL,
            dedupe.Reason.CODICE_FISCALE,
            dedupe.Reason.NAME_POSTAL_CODE,
        }
    }

    page = client.get("/staff/donors/duplicates")
    assert page.status_code == 200
    assert page.text.count(f"/staff/donors/merge/{a.id}/{b.id}") == 1
    for label in ("same e-mail", "same codice fiscale", "same name and postal code"):
        assert label in page.text
    mine = client.get(f"/staff/donors/{a.id}/merge-with")
    assert f"/staff/donors/merge/{a.id}/{b.id}" in mine.text


def test_merge_with_finds_the_other_donor_by_number_or_email(client, login):
    login("staff")
    a, b = factories.donor(), factories.donor()
    db.session.add(DonorEmail(donor_id=b.id, email="second@example.org"))
    db.session.commit()
    by_number = client.get(f"/staff/donors/{a.id}/merge-with?other={b.id}")
    assert by_number.headers["Location"].endswith(f"/staff/donors/merge/{a.id}/{b.id}")
    by_email = client.get(f"/staff/donors/{a.id}/merge-with?other=Second@Example.org")
    assert by_email.headers["Location"].endswith(f"/staff/donors/merge/{a.id}/{b.id}")
    nobody = client.get(f"/staff/donors/{a.id}/merge-with?other=nobody@example.org")
    assert nobody.status_code == 200 and "No other donor" in nobody.text


def test_only_staff_and_admin_merge(client, login):
    a, b = factories.donor(), factories.donor()
    ids = a.id, b.id
    login("treasurer")
    record = client.get(f"/staff/donors/{ids[0]}")
    assert record.status_code == 200 and "/merge-with" not in record.text
    assert client.get("/staff/donors/duplicates").status_code == 403
    assert (
        client.post(f"/staff/donors/merge/{ids[0]}/{ids[1]}", data={"survivor": ids[0]}).status_code
        == 403
    )
    assert db.session.get(Donor, ids[1]) is not None
    client.post("/staff/logout")
    login("admin")
    assert client.get("/staff/donors/duplicates").status_code == 200
    assert client.get(f"/staff/donors/merge/{ids[0]}/{ids[1]}").status_code == 200
    record = client.get(f"/staff/donors/{ids[0]}")
    assert f"/staff/donors/{ids[0]}/merge-with" in record.text
