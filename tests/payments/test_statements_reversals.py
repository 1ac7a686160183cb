"""Reversals on bank statements (camt RvslInd, CSV storno): the confirmation is undone; the
gift goes back to pending when no receipt was issued yet, or is refunded (its receipt voided)
when one was; totals follow; audited; a reversal may come before its credit."""

from datetime import date

import pytest
from sqlalchemy import select

from campaigns.models import Campaign
from donors.models import DonorYearTotal
from legami.extensions import db
from legami.models import AuditEntry
from legami.timeutil import ROME
from payments.models import Refund, StatementLine
from payments.references import new_reference
from receipts import issuing
from receipts.models import Receipt, ReceiptDue
from tests import factories
from tests.payments.statements import DARE_AVERE, camt, csv_bytes, gift, line_for, pledge, upload


@pytest.fixture
def campaign():
    return factories.campaign(goal_cents=1_000_000)


@pytest.fixture
def treasurer(client, login):
    user = login("treasurer")
    client.get("/staff/statements?lang=en")
    return user


def _december(single) -> bytes:
    others = {
        name: new_reference()
        for name in ("ref_structured", "ref_batch", "ref_usd", "ref_converted", "ref_pending")
    }
    return camt("camt053_v02.xml", ref_single=single.payment_reference, **others)


def _reversal(single) -> bytes:
    return camt("camt053_v08_reversal.xml", ref_single=single.payment_reference)


def _totals(campaign, donation) -> tuple[int, tuple[int, int]]:
    db.session.expire_all()
    year = db.session.scalar(
        select(DonorYearTotal).where(DonorYearTotal.donor_id == donation.donor_id)
    )
    return db.session.get(Campaign, campaign.id).raised_cents, (year.gifts, year.net_cents)


def _audit(action: str) -> list[AuditEntry]:
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def test_a_reversal_before_the_receipt_puts_the_gift_back_to_pending(client, treasurer, campaign):
    single = pledge(campaign, 5000)
    upload(client, campaign.organisation, _december(single))
    assert gift(single).status == "succeeded"
    assert _totals(campaign, single) == (5000, (1, 5000))
    assert db.session.get(ReceiptDue, single.id) is not None

    response = upload(client, campaign.organisation, _reversal(single))
    assert response.status_code == 302
    assert "1 reversal," in client.get(response.location).text  # singular, then the next count
    back = gift(single)
    assert (back.status, back.received_on, back.succeeded_at) == ("pending", None, None)
    assert _totals(campaign, single) == (0, (0, 0))
    assert db.session.get(ReceiptDue, single.id) is None  # no receipt will be issued
    reversal, credit = line_for(single, "debit"), line_for(single)
    assert (reversal.status, reversal.reason, reversal.reverses_id) == (
        "reversal",
        "reversed_pending",
        credit.id,
    )
    assert (credit.status, credit.reason) == ("ignored", "reversed")
    [entry] = _audit("donation.reverse")
    assert entry.user_id == treasurer.id and entry.detail["outcome"] == "pending"
    page = client.get(f"/staff/statements/{reversal.statement_id}").text
    assert "Reversal: the gift is pending again (no receipt had been issued)." in page

    # Imported again: nothing more happens.
    upload(client, campaign.organisation, _reversal(single))
    assert len(_audit("donation.reverse")) == 1 and gift(single).status == "pending"

    # The donor pays again: the new credit confirms the gift, and its receipt is issued once.
    rows = [
        ["Data contabile", "Data valuta", "Dare", "Avere", "Descrizione operazione"],
        ["09/12/2026", "09/12/2026", "", "50,00", f"BONIFICO {single.payment_reference}"],
    ]
    upload(client, campaign.organisation, csv_bytes(rows, "cp1252"), "csv", **DARE_AVERE)
    assert (gift(single).status, gift(single).received_on) == ("succeeded", date(2026, 12, 9))
    assert _totals(campaign, single) == (5000, (1, 5000))
    issuing.issue_due()
    assert len(db.session.scalars(select(Receipt)).all()) == 1


def test_a_reversal_after_the_receipt_refunds_the_gift_and_voids_it(client, treasurer, campaign):
    single = pledge(campaign, 5000)
    upload(client, campaign.organisation, _december(single))
    issuing.issue_due()
    receipt = db.session.scalar(select(Receipt).where(Receipt.donation_id == single.id))
    assert receipt.status == "issued"

    upload(client, campaign.organisation, _reversal(single))
    refunded = gift(single)
    assert (refunded.status, refunded.refunded_cents) == ("refunded", 5000)
    assert refunded.received_on == date(2026, 12, 3)  # it was given, then taken back
    [refund] = db.session.scalars(select(Refund).where(Refund.donation_id == single.id)).all()
    assert refund.amount_cents == 5000
    assert refund.created_at.astimezone(ROME).date() == date(2026, 12, 7)
    db.session.refresh(receipt)
    assert receipt.status == "voided"
    assert _totals(campaign, single) == (0, (0, 0))
    assert line_for(single, "debit").reason == "reversed_refunded"
    assert _audit("donation.reverse")[0].detail["outcome"] == "refunded"


def test_a_reversal_imported_before_its_credit_waits_for_it(client, treasurer, campaign):
    single = pledge(campaign, 5000)
    upload(client, campaign.organisation, _reversal(single))
    waiting = db.session.scalar(select(StatementLine))
    assert (waiting.status, waiting.reason) == ("unmatched", "reversal_waiting")

    upload(client, campaign.organisation, _december(single))
    assert gift(single).status == "pending"
    db.session.expire_all()
    credit = db.session.scalar(
        select(StatementLine).where(
            StatementLine.description.contains(single.payment_reference),
            StatementLine.direction == "credit",
        )
    )
    waiting = db.session.get(StatementLine, waiting.id)
    assert (credit.status, credit.reason) == ("ignored", "reversed")
    assert (waiting.status, waiting.reason, waiting.reverses_id) == (
        "reversal",
        "reversed_unmatched",
        credit.id,
    )
    assert _audit("donation.confirm") == []  # the other references in the file are unknown
    assert db.session.get(Campaign, campaign.id).raised_cents == 0


def test_a_credit_and_its_storno_in_one_file(client, treasurer, campaign):
    given = pledge(campaign, 2000)
    rows = [
        ["Data contabile", "Data valuta", "Dare", "Avere", "Descrizione operazione"],
        ["01/12/2026", "01/12/2026", "", "20,00", f"BONIFICO {given.payment_reference}"],
        ["02/12/2026", "01/12/2026", "20,00", "", f"STORNO BONIFICO {given.payment_reference}"],
    ]
    upload(client, campaign.organisation, csv_bytes(rows, "utf-16", "\t"), "csv", **DARE_AVERE)
    assert gift(given).status == "pending"
    assert len(_audit("donation.confirm")) == len(_audit("donation.reverse")) == 1
    assert _totals(campaign, given) == (0, (0, 0))
