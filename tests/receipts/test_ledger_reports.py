"""The funder report (PDF and XLSX, the same figures) and the annual public report (PDF, in
Italian and English), read back with pdftotext and openpyxl; the plan's targets and the
progress against them; every download audited; no donor named."""

import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import select

from legami.extensions import db
from legami.models import AuditEntry
from payments import ledger, plan
from tests import factories
from tests.payments.ledger_helpers import approved, funded_pact, outcome
from tests.payments.matching import transfer
from tests.receipts.conftest import pdf_text


def _year_of_giving():
    organisation = factories.organisation(name="Cooperativa Legami Cremona")
    pact, campaign = funded_pact(0, organisation=organisation)
    returning = factories.donor(first_name="Arturo", last_name="Donatorelli")
    year = date.today().year
    transfer(campaign, 10_000, donor=returning, day=date(year - 1, 12, 1))
    transfer(campaign, 20_000, donor=returning)
    transfer(campaign, 30_000)
    company = factories.donor(kind="organisation", organisation_name="Impresa Srl")
    transfer(campaign, 40_000, donor=company)
    treasurer = factories.user(roles=("treasurer",))
    admin = factories.user(roles=("admin",))
    with_context = approved(campaign, 12_500, treasurer, admin, pact=pact, category="places")
    outcome(pact=pact, kind="hours", quantity=12, description="Dodici ore di volontariato")
    return organisation, campaign, with_context


def test_the_plan_is_saved_and_the_progress_shows_against_it(client, login):
    with client.application.test_request_context():
        organisation, _campaign, _expense = _year_of_giving()
    login("staff")
    year = date.today().year
    url = f"/staff/fondi/piano?organisation_id={organisation.id}&year={year}&lang=en"
    response = client.post(
        url, data={"year": year, "strategy_pacts": "1.000", "channel_transfer": "500,50"}
    )
    assert response.status_code == 302
    page = client.get(url).text
    assert "Generative pacts" in page and "€1,000" in page and "€900" in page
    assert "90%" in page  # 90,000 cents of gifts this year against 100,000
    assert "from 3 donors (2 new, 1 returning)" in page
    bad = client.post(url, data={"year": year, "strategy_pacts": "-5"})
    assert bad.status_code == 422 and "cannot be negative" in bad.text


def test_funder_report_pdf_and_xlsx_give_the_same_figures(client, login):
    with client.application.test_request_context():
        organisation, _campaign, _expense = _year_of_giving()
    login("treasurer")
    year = date.today().year
    query = f"?organisation_id={organisation.id}&start={year}-01-01&end={year}-12-31&lang=en"
    pdf = client.get("/staff/rapporti/finanziatore.pdf" + query)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    for expected in (
        "Funder report: Cooperativa Legami Cremona",
        "Raised €900",
        "Raised by strategy Strategy Generative pacts Amount €900",
        "Bank transfer €500",
        "Companies €400",
        "New donors 2",
        "Returning donors 1",
        "Category Places and rent Amount €125",
        "hours of volunteering 12",
    ):
        assert expected in text, expected
    assert "Donatorelli" not in text and "Impresa" not in text
    xlsx = client.get("/staff/rapporti/finanziatore.xlsx" + query)
    book = load_workbook(io.BytesIO(xlsx.data))
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary == {"Raised": 90_000, "Matching received": 0, "Spent": 12_500}
    channels = dict(book["Raised by channel"].iter_rows(min_row=2, values_only=True))
    assert channels == {"Bank transfer": 50_000, "Companies": 40_000}
    months = dict(book["Raised by month"].iter_rows(min_row=2, values_only=True))
    assert sum(months.values()) == 90_000
    assert client.get("/staff/rapporti/finanziatore.pdf?start=x").status_code == 400
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("report.funder") == 2


def test_annual_report_in_italian_and_english(client, login):
    with client.application.test_request_context():
        organisation, campaign, _expense = _year_of_giving()
        pact = campaign.pacts[0]
        assert ledger.for_campaign(campaign).spent_cents == 12_500
    login("staff")
    year = date.today().year
    italian = pdf_text(client.get(f"/staff/rapporti/annuale/{organisation.id}/{year}.pdf").data)
    assert "Cooperativa Legami Cremona" in italian and str(year) in italian
    # The Italian strings of this report come with the lead's translation pass; the
    # figures are already formatted the Italian way.
    assert "Raccolti 900 €" in italian and "Bonifico bancario 500 €" in italian
    assert "125 €" in italian and pact.title in italian
    english = client.get(f"/staff/rapporti/annuale/{organisation.id}/{year}.pdf?lang=en")
    text = pdf_text(english.data)
    assert f"Annual report {year}" in text and "Raised by strategy" in text
    assert "12 hours of volunteering" in text and "Raised €900" in text
    assert "Donatorelli" not in text and "Impresa" not in text
    assert (
        client.get(f"/staff/rapporti/annuale/{organisation.id}/{year}.pdf?lang=de").status_code
        == 400
    )


def test_restitution_in_an_organisations_report_is_of_the_pacts_it_funds(app):
    with app.app_context():
        organisation, _campaign, _expense = _year_of_giving()
        other_pact, _other_campaign = funded_pact(0, organisation=factories.organisation())
        outcome(pact=other_pact, kind="hours", quantity=30, description="Altre ore")
        outcome(pact=other_pact, kind="task", quantity=2, description="Due compiti")
        db.session.commit()
        year = date.today().year
        start, end = date(year, 1, 1), date(year, 12, 31)
        assert plan.period(start, end, organisation).restitution == {"hours": 12}
        assert plan.period(start, end).restitution == {"hours": 42, "task": 2}
