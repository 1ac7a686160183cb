"""The fundraising dashboard: figures on a hand-made history, its charts and its page."""

import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest

from donors import dashboard
from donors.charts import Series, bar_chart, line_chart
from legami.extensions import db
from legami.money import format_money
from payments.models import RecurringGift, RecurringStatus, Status
from tests import factories

SVG = "{http://www.w3.org/2000/svg}"
TODAY = date(2025, 6, 15)


@pytest.fixture
def history(app):
    """Gifts over 2022-2025 by donors A-G to campaigns X and Z (organisation 1, X funding
    pacts P1 and P2 and lab L1) and Y (organisation 2, funding P1)."""
    org1, org2 = factories.organisation(name="Alfa ETS"), factories.organisation(name="Beta ETS")
    p1, p2, l1 = (
        factories.pact(title="Patto uno"),
        factories.pact(title="Patto due"),
        factories.lab(),
    )
    x = factories.campaign(title="Campagna X", organisation=org1)
    x.pacts, x.labs = [p1, p2], [l1]
    y = factories.campaign(title="Campagna Y", organisation=org2)
    y.pacts = [p1]
    z = factories.campaign(title="Campagna Z", organisation=org1)
    db.session.commit()
    donors = {name: factories.donor(last_name=f"Donatore {name}") for name in "ABCDEFG"}

    def gift(who, campaign, day, cents, **extra):
        factories.donation(
            donor=donors[who], campaign=campaign, received_on=day, amount_cents=cents, **extra
        )

    gift("E", x, date(2022, 12, 31), 1000)
    gift("A", x, date(2023, 5, 5), 5000)
    gift("B", x, date(2023, 11, 20), 1000)
    gift("A", x, date(2024, 3, 10), 3000)
    gift("C", y, date(2024, 7, 1), 10000, refunded_cents=4000)
    gift("E", y, date(2024, 12, 31), 1000)
    gift("A", y, date(2025, 1, 1), 2000)
    gift("F", x, date(2025, 2, 2), 3000, status=Status.REFUNDED, refunded_cents=3000)
    gift("G", x, date(2025, 3, 3), 4000, status=Status.PENDING)
    gift("D", x, date(2025, 6, 30), 2500)
    gift("D", z, date(2025, 6, 30), 2500)
    for who, campaign, cents, status in (
        ("A", x, 1000, RecurringStatus.ACTIVE),
        ("A", x, 300, RecurringStatus.ACTIVE),
        ("B", y, 500, RecurringStatus.ACTIVE),
        ("C", x, 700, RecurringStatus.CANCELLED),
    ):
        db.session.add(
            RecurringGift(
                donor_id=donors[who].id, campaign_id=campaign.id, amount_cents=cents, status=status
            )
        )
    db.session.commit()
    return {"org1": org1, "org2": org2, "x": x, "y": y, "z": z, "p1": p1, "p2": p2, "l1": l1}


def _row(y: dashboard.Year):
    return (y.year, y.donors, y.new, y.retained, y.lapsed, y.gifts, y.income_cents)


def test_donors_new_retained_lapsed_and_income_per_year(history):
    years = dashboard.years(2023, 2025)
    assert [_row(y) for y in years] == [
        (2023, 2, 2, 0, 1, 2, 6000),  # A, B new; E (2022) lapsed
        (2024, 3, 1, 1, 1, 3, 10000),  # A retained, C new, E back (not new); B lapsed; C net
        (2025, 2, 1, 1, 2, 3, 7000),  # A retained, D new; C and E lapsed; F refunded, G pending
    ]
    assert [y.retention_rate for y in years] == [0, 0.5, pytest.approx(1 / 3)]
    assert [y.average_gift_cents for y in years] == [3000, 3333, 2333]


def test_one_organisation_counts_its_own_donors_as_new(history):
    years = dashboard.years(2023, 2025, history["org2"].id)
    assert [_row(y) for y in years] == [
        (2023, 0, 0, 0, 0, 0, 0),
        (2024, 2, 2, 0, 0, 2, 7000),
        (2025, 1, 1, 0, 2, 1, 2000),
    ]
    assert years[0].retention_rate is None
    assert years[0].average_gift_cents is None


def test_income_by_month_over_the_last_twelve_months(history):
    start, end = dashboard.month_window(2023, 2025, TODAY)
    assert (start, end) == (date(2024, 7, 1), date(2025, 7, 1))
    months = dashboard.months(start, end)
    assert len(months) == 12
    assert {m.first_day: (m.gifts, m.income_cents) for m in months if m.gifts} == {
        date(2024, 7, 1): (1, 6000),
        date(2024, 12, 1): (1, 1000),
        date(2025, 1, 1): (1, 2000),
        date(2025, 6, 1): (2, 5000),
    }
    assert dashboard.month_window(2023, 2023, TODAY) == (date(2023, 1, 1), date(2024, 1, 1))
    assert dashboard.month_window(2020, 2025, date(2025, 12, 31)) == (
        date(2025, 1, 1),
        date(2026, 1, 1),
    )
    by_month = dashboard.months(date(2023, 1, 1), date(2024, 1, 1), history["org1"].id)
    assert [m.income_cents for m in by_month if m.gifts] == [5000, 1000]


def _shares(shares):
    return [(s.title, s.gifts, s.income_cents) for s in shares]


def test_income_by_campaign_pact_and_lab(history):
    by = dashboard.shares(date(2023, 1, 1), date(2026, 1, 1))
    assert _shares(by["campaigns"]) == [
        ("Campagna X", 4, 11500),
        ("Campagna Y", 3, 9000),  # C's gift net of its refund
        ("Campagna Z", 1, 2500),
    ]
    # Campaign X funds both pacts: its gifts count for each.
    assert _shares(by["pacts"]) == [("Patto uno", 7, 20500), ("Patto due", 4, 11500)]
    assert _shares(by["labs"]) == [(history["l1"].title, 4, 11500)]
    only_org2 = dashboard.shares(date(2023, 1, 1), date(2026, 1, 1), history["org2"].id)
    assert _shares(only_org2["pacts"]) == [("Patto uno", 3, 9000)]
    assert only_org2["labs"] == []
    assert dashboard.shares(date(2026, 1, 1), date(2027, 1, 1)) == {
        "campaigns": [],
        "pacts": [],
        "labs": [],
    }


def test_monthly_donors_are_active_recurring_gifts(history):
    assert dashboard.monthly() == dashboard.Monthly(donors=2, gifts=3, monthly_cents=1800)
    assert dashboard.monthly(history["org1"].id) == dashboard.Monthly(1, 2, 1300)


def _svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(svg) for svg in re.findall(r"<svg.*?</svg>", html, re.S)]


def test_charts_are_well_formed_titled_and_labelled():
    bars = ET.fromstring(
        bar_chart("c", "Gifts <&> more", "desc", ["A & B", "C"], [Series("n", [3, 0])])
    )
    assert bars.get("role") == "img"
    assert bars.get("aria-labelledby") == "c-title c-desc"
    assert bars.find(f"{SVG}title").text == "Gifts <&> more"
    assert [t.text for t in bars.iter(f"{SVG}text")] == ["Gifts <&> more", "A & B", "3", "C", "0"]
    two = ET.fromstring(
        bar_chart("t", "T", "d", ["2024"], [Series("New", [1]), Series("Old", [2])])
    )
    assert [t.text for t in two.iter(f"{SVG}text")] == ["T", "New", "Old", "2024", "1", "2"]
    line = ET.fromstring(
        line_chart("l", "Line", "desc", ["a", "b"], [Series("s", [0, 30])], fmt=lambda v: f"{v:g}")
    )
    texts = [t.text for t in line.iter(f"{SVG}text")]
    assert texts == ["Line", "0", "10", "20", "30", "40", "50", "a", "b"]
    assert [c.find(f"{SVG}title").text for c in line.iter(f"{SVG}circle")] == [
        "s, a: 0",
        "s, b: 30",
    ]


def test_the_page_shows_figures_tables_and_charts(history, client, login):
    login("staff")
    response = client.get("/staff/donors/dashboard?year_from=2023&year_to=2025")
    assert response.status_code == 200
    html = response.text
    svgs = _svgs(html)
    titles = [svg.find(f"{SVG}title").text for svg in svgs]
    assert len(titles) == 6
    assert all(svg.get("role") == "img" for svg in svgs)
    campaigns = next(s for s in svgs if "chart-campaigns" in s.get("aria-labelledby"))
    labels = [t.text for t in campaigns.iter(f"{SVG}text")]
    assert labels[1:3] == ["Campagna X", format_money(11500)]
    table = html[html.index('id="campaigns-table"') :]
    assert re.search(r"Campagna X</th><td class=\"num\">4</td>", table)
    assert format_money(20500) in html[html.index('id="pacts-table"') :]
    assert "counts in full for each" in html or "conta per intero" in html
    years = html[html.index('id="years-table"') : html.index("</table>", html.index("years-table"))]
    assert '<th scope="row">2024</th><td class="num">3</td><td class="num">1</td>' in years


def test_one_organisation_and_bad_years(history, client, login):
    login("treasurer")
    org2 = history["org2"].id
    response = client.get(
        f"/staff/donors/dashboard?year_from=2023&year_to=2025&organisation={org2}"
    )
    assert response.status_code == 200
    assert "Campagna X" not in response.text
    assert "Campagna Y" in response.text
    assert client.get("/staff/donors/dashboard?year_from=2025&year_to=2023").status_code == 422
    assert client.get("/staff/donors/dashboard?year_from=abc").status_code == 422
    assert client.get("/staff/donors/dashboard?organisation=999999").status_code == 422
    default = client.get("/staff/donors/dashboard")
    assert default.status_code == 200
    assert len(_svgs(default.text)) == 6


@pytest.mark.parametrize("role", ["staff", "treasurer", "admin"])
def test_staff_and_treasurer_see_the_dashboard_and_its_menu_item(client, login, role):
    login(role)
    response = client.get("/staff/donors/dashboard")
    assert response.status_code == 200
    home = client.get("/staff/").text
    assert 'href="/staff/donors/dashboard"' in home


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/staff/donors/dashboard")
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]
