"""The staff home and navigation: menu grouped by job and filtered by role; each role's
to-dos with counts, amounts and links to the filtered lists; giving figures against last
year."""

from datetime import date, timedelta

import lxml.html
import pytest

from donors import home as figures
from donors.giving_figures import rebuild_for
from legami.extensions import db
from legami.timeutil import now_utc, today_rome
from payments.models import (
    BankStatement,
    Frequency,
    LineStatus,
    Method,
    RecurringGift,
    RecurringStatus,
    StatementLine,
    Status,
)
from receipts.models import ReceiptDue
from tests import factories

MENU = {
    "staff": {
        "Fundraising": ["Campaigns", "Pacts", "Labs", "Fundraising dashboard"],
        "Donors": ["Donors", "Segments", "Import", "Duplicates", "Retention review"],
        "Communication": ["Newsletters", "Outbox", "Sender"],
        "Treasury": ["Donations", "Receipts"],
    },
    "treasurer": {
        "Fundraising": ["Fundraising dashboard"],
        "Donors": ["Donors"],
        "Treasury": [
            "Donations",
            "Bank transfers",
            "Bank statements",
            "Payment events",
            "Receipts",
            "Annual receipts",
            "Receipt exports",
            "Receipt settings",
        ],
        "Administration": ["Organisations"],
    },
}


def _menu(html: str) -> dict[str, list[str]]:
    tree = lxml.html.fromstring(html)
    return {
        group.findtext("summary").strip(): [a.text_content().strip() for a in group.iter("a")]
        for group in tree.xpath("//nav[contains(@class, 'staff-nav')]//details")
    }


@pytest.mark.parametrize("role", ["staff", "treasurer"])
def test_the_menu_is_grouped_by_job_and_shows_what_the_role_may_open(client, login, english, role):
    factories.organisation()
    login(role)
    page = client.get("/staff/")
    assert page.status_code == 200
    menu = _menu(page.text)
    # Other work may add entries; those the issue names are there, in their group, no group
    # the role has nothing in is shown, and every entry opens for the role.
    for group, entries in MENU[role].items():
        assert set(entries) <= set(menu[group]), group
    assert set(menu) == set(MENU[role])
    for link in lxml.html.fromstring(page.text).xpath(
        "//nav[contains(@class, 'staff-nav')]//details//a"
    ):
        assert client.get(link.get("href")).status_code == 200, link.get("href")


def test_admin_sees_every_group_in_order(client, login, english):
    login("admin")
    menu = _menu(client.get("/staff/").text)
    assert list(menu) == ["Fundraising", "Donors", "Communication", "Treasury", "Administration"]
    assert {"Organisations", "Users"} <= set(menu["Administration"])


def _links(html: str) -> dict[str, str]:
    """Each to-do's link: its text (count and label, spaces folded) -> its address."""
    tree = lxml.html.fromstring(html)
    return {
        " ".join(a.text_content().split()): a.get("href")
        for a in tree.xpath("//section[contains(@class, 'home-panel')]//li//a")
    }


def _treasurer_world():
    org = factories.organisation()
    campaign = factories.campaign(organisation=org)
    now = now_utc()
    for cents, days in ((3000, 2), (2000, 9)):
        factories.donation(
            campaign=campaign,
            method=Method.BANK_TRANSFER,
            status=Status.PENDING,
            received_on=None,
            amount_cents=cents,
            created_at=now - timedelta(days=days),
        )
    # A card payment left pending is not a transfer waiting.
    factories.donation(campaign=campaign, status=Status.PENDING, received_on=None)
    factories.donation(
        campaign=campaign,
        status=Status.REVIEW,
        received_on=None,
        amount_cents=1500,
        stripe_paid_cents=1400,
        stripe_paid_currency="EUR",
    )
    monthly = factories.donation(
        campaign=campaign,
        status=Status.FAILED,
        received_on=None,
        frequency=Frequency.MONTHLY,
        amount_cents=1000,
    )
    # A monthly payment that failed long ago is no longer a to-do.
    factories.donation(
        campaign=campaign,
        donor=monthly.donor,
        status=Status.FAILED,
        received_on=None,
        frequency=Frequency.MONTHLY,
        created_at=now - timedelta(days=60),
    )
    statement = BankStatement(organisation_id=org.id, filename="estratto.xml", format="camt")
    db.session.add(statement)
    db.session.flush()
    for n, (status, cents) in enumerate(
        ((LineStatus.UNMATCHED, 4200), (LineStatus.UNMATCHED, 800), (LineStatus.MATCHED, 500))
    ):
        db.session.add(
            StatementLine(
                statement_id=statement.id,
                organisation_id=org.id,
                line_key=f"line-{n}",
                booked_on=today_rome() - timedelta(days=n),
                amount_cents=cents,
                status=status,
            )
        )
    # One gift waiting for the scheduler to issue its receipt; two recent gifts with none
    # (one by card, one in cash, not deductible), and one with none from long ago.
    due = factories.donation(campaign=campaign)
    db.session.add(ReceiptDue(donation_id=due.id))
    today = today_rome()
    factories.donation(campaign=campaign, amount_cents=5000, received_on=today - timedelta(3))
    factories.donation(
        campaign=campaign, method=Method.CASH, amount_cents=700, received_on=today - timedelta(1)
    )
    db.session.commit()
    return org


def test_the_treasurer_sees_the_work_waiting_with_links_to_the_lists(client, login, english):
    _treasurer_world()
    login("treasurer")
    page = client.get("/staff/")
    assert page.status_code == 200
    links = _links(page.text)
    transfers = links["2 bank transfers waiting"]
    assert "method=bank_transfer" in transfers and "status=pending" in transfers
    assert "€50" in page.text  # 30 + 20 waiting
    assert links["2 bank statement lines to check"] == "/staff/statements"
    assert "€50" in page.text
    assert "status=review" in links["1 gift needs review"]
    failed = links["1 monthly payment failed in the last 30 days"]
    assert "status=failed" in failed and "frequency=monthly" in failed
    assert "1 receipt waiting to be issued" in links
    # The gift whose receipt is due is recent and has none yet: it is "due", not missing.
    missing = links["1 recent tax-deductible gift without a receipt"]
    assert "/without-receipt/missing" in missing
    assert "1 recent cash or untraceable gift without a receipt" in links

    # Each link opens its list, and the list holds what the home counted.
    listed = client.get(transfers)
    assert listed.status_code == 200
    assert "2 donations" in listed.text and "total €50" in listed.text
    listed = client.get(failed)
    assert "1 donation" in listed.text and "total €10" in listed.text
    listed = client.get(missing)
    assert listed.status_code == 200 and "€50" in listed.text


def test_staff_see_their_to_dos_not_the_treasurers(client, login, english):
    _treasurer_world()
    login("staff")
    page = client.get("/staff/")
    links = _links(page.text)
    assert "1 monthly payment failed in the last 30 days" in links
    assert not any("bank transfer" in text for text in links)
    assert not any("receipt" in text for text in links)
    assert "No newsletter is scheduled." in page.text
    assert "Raised this month" in page.text and "Active monthly donors" in page.text


def _gift(day: date, cents: int, **kw):
    return factories.donation(received_on=day, amount_cents=cents, **kw)


@pytest.mark.parametrize("today", [date(2026, 3, 10), date(2026, 11, 20)])
def test_raised_this_month_and_year_against_the_same_days_of_last_year(app, today):
    """Both ways of summing a part of a year (the days up to it in March, the year less the
    days after in November) give the gifts received up to the same day."""
    _gift(today, 1000)
    _gift(today.replace(day=1), 2000)
    _gift(date(2026, 1, 2), 4000)
    _gift(date(2026, 12, 30), 99_900)  # after `today`: a gift dated ahead, not counted
    _gift(date(2025, today.month, 2), 300)
    _gift(date(2025, today.month, today.day), 500)
    _gift(date(2025, today.month, today.day) + timedelta(days=1), 70_000)
    _gift(date(2025, 1, 5), 800)
    _gift(date(2024, 6, 1), 123_400)
    refunded = _gift(date(2025, 1, 6), 5000)
    refunded.refunded_cents = 2000  # counted net of the refund
    db.session.commit()
    rebuild_for(refunded.donor_id)
    db.session.commit()
    factories.donation(received_on=None, status=Status.PENDING, amount_cents=60_000)

    raised = figures.raised(today)
    assert raised["month"].cents == 3000
    assert raised["month"].last_year_cents == 800
    this_year = 1000 + 2000 + 4000
    assert raised["year"].cents == this_year
    assert raised["year"].last_year_cents == 300 + 500 + 800 + 3000


def test_the_year_to_date_never_counts_days_after_today(app):
    """Gifts dated after today (entered ahead) are left out either way of summing."""
    _gift(date(2026, 12, 30), 99_900)
    _gift(date(2026, 2, 1), 100)
    assert figures.year_to_date(2026, date(2026, 3, 1)) == 100
    assert figures.year_to_date(2026, date(2026, 11, 1)) == 100


def test_active_monthly_donors_counts_donors_once(app):
    donor = factories.donor()
    campaign = factories.campaign()
    for status in (RecurringStatus.ACTIVE, RecurringStatus.ACTIVE, RecurringStatus.CANCELLED):
        db.session.add(
            RecurringGift(donor=donor, campaign=campaign, amount_cents=1000, status=status)
        )
    db.session.add(
        RecurringGift(
            donor=factories.donor(),
            campaign=campaign,
            amount_cents=500,
            status=RecurringStatus.ACTIVE,
        )
    )
    db.session.commit()
    assert figures.monthly_donors() == 2


def test_the_dashboards_figures_are_kept_a_minute_and_refreshed_on_demand(app_with):
    app = app_with(DASHBOARD_CACHE_SECONDS=60)
    client = app.test_client()
    user = factories.user(roles=("staff",), password="a long password")
    client.post("/staff/login", data={"email": user.email, "password": "a long password"})
    client.get("/?lang=en")
    factories.donation(amount_cents=12_345)
    first = client.get("/staff/donors/dashboard").text
    assert "€123.45" in first and "Figures as of" in first
    factories.donation(amount_cents=1_000)
    assert "€133.45" not in client.get("/staff/donors/dashboard").text  # kept
    assert "€133.45" in client.get("/staff/donors/dashboard?fresh=1").text
    assert "€133.45" in client.get("/staff/donors/dashboard").text  # the fresh ones are kept


def test_without_a_cache_the_dashboard_is_computed_each_time(app_with):
    app = app_with(DASHBOARD_CACHE_SECONDS=0)
    client = app.test_client()
    user = factories.user(roles=("staff",), password="a long password")
    client.post("/staff/login", data={"email": user.email, "password": "a long password"})
    client.get("/?lang=en")
    factories.donation(amount_cents=12_345)
    assert "€123.45" in client.get("/staff/donors/dashboard").text
    factories.donation(amount_cents=1_000)
    assert "€133.45" in client.get("/staff/donors/dashboard").text
