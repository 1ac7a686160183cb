"""A gift's date: the treasurer corrects it from the donation page until a receipt is
issued (audited; the gift moves between its donor's years), and not after."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from donors.models import DonorYearTotal
from legami.extensions import db
from legami.models import AuditEntry
from legami.timeutil import today_rome
from receipts import issuing
from tests import factories
from tests.payments.statements import DARE_AVERE, csv_bytes, gift, pledge, upload


@pytest.fixture
def campaign():
    return factories.campaign(goal_cents=1_000_000)


def _years(donation) -> dict[int, tuple[int, int]]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(DonorYearTotal).where(DonorYearTotal.donor_id == donation.donor_id)
    )
    return {row.year: (row.gifts, row.net_cents) for row in rows if row.gifts or row.net_cents}


def test_the_treasurer_corrects_a_transfer_date_until_its_receipt(client, login, campaign):
    user = login("treasurer")
    client.get("/staff/statements?lang=en")
    transfer = pledge(campaign, 7500)
    # An export without a value date: the gift is dated by the booking, 2 January.
    rows = [
        ["Data contabile", "Dare", "Avere", "Descrizione operazione"],
        ["02/01/2026", "", "75,00", f"BONIFICO {transfer.payment_reference}"],
    ]
    upload(client, campaign.organisation, csv_bytes(rows, "cp1252"), "csv", **DARE_AVERE)
    assert gift(transfer).received_on == date(2026, 1, 2)
    assert _years(transfer) == {2026: (1, 7500)}
    page = client.get(f"/staff/donations/{transfer.id}").text
    assert "Correct the date" in page

    # The donor shows the order was given on 31 December: the gift moves to 2025.
    response = client.post(
        f"/staff/donations/{transfer.id}/date", data={"received_on": "2025-12-31"}
    )
    assert response.status_code == 302
    assert gift(transfer).received_on == date(2025, 12, 31)
    assert _years(transfer) == {2025: (1, 7500)}
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "donation.date"))
    assert entry.user_id == user.id
    assert entry.detail == {"changes": {"received_on": ["2026-01-02", "2025-12-31"]}}

    tomorrow = (today_rome() + timedelta(days=1)).isoformat()
    future = client.post(f"/staff/donations/{transfer.id}/date", data={"received_on": tomorrow})
    assert future.status_code == 422 and "The date cannot be in the future." in future.text

    # Once the receipt is issued, the date it states stays.
    issuing.issue_due()
    refused = client.post(
        f"/staff/donations/{transfer.id}/date", data={"received_on": "2026-01-02"}
    )
    assert refused.status_code == 422
    assert "A receipt was issued for this gift: its date can no longer change." in refused.text
    assert gift(transfer).received_on == date(2025, 12, 31)
    assert _years(transfer) == {2025: (1, 7500)}
    assert (
        len(
            db.session.scalars(select(AuditEntry).where(AuditEntry.action == "donation.date")).all()
        )
        == 1
    )


def test_only_a_treasurer_and_only_a_received_gift(client, login, campaign):
    waiting = pledge(campaign, 1000)
    login("staff")
    forbidden = client.post(
        f"/staff/donations/{waiting.id}/date", data={"received_on": "2026-01-01"}
    )
    assert forbidden.status_code == 403
    client.post("/staff/logout")
    login("treasurer")
    client.get("/staff/donations?lang=en")
    response = client.post(
        f"/staff/donations/{waiting.id}/date", data={"received_on": "2026-01-01"}
    )
    assert response.status_code == 422
    assert "Only a received gift has a date to correct." in response.text
    assert gift(waiting).received_on is None
