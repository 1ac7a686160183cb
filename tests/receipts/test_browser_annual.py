"""The treasurer issues a year's annual receipts in a real browser, follows the progress page
to the end, then downloads the ZIP of the PDFs from the exports page.

Elements are found by ids, field names and form actions, not by visible text, so the test does
not depend on which UI strings are translated; figures are read as numbers.
"""

import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from legami.extensions import db
from legami.timeutil import today_rome
from payments.models import Method, Status
from receipts.issuing import settings_for
from receipts.models import Kind, Policy, Receipt
from tests import factories
from tests.conftest import browser_log_in

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
YEAR = 2025


def _setup(app) -> dict:
    """Two organisations giving annual receipts; three donors of the first with gifts of YEAR
    (one partly refunded, one fully refunded, one of the year before), one of the second.
    Returns plain values: the treasurer, the organisation chosen and what each donor is owed."""
    with app.app_context():
        org = factories.organisation()
        other_org = factories.organisation()
        for organisation in (org, other_org):
            settings_for(organisation.id).policy = Policy.ANNUAL
        db.session.commit()
        campaign = factories.campaign(organisation=org)
        other_campaign = factories.campaign(organisation=other_org)
        anna = factories.donor(first_name="Anna", last_name="Bianchi")
        marco = factories.donor(first_name="Marco", last_name="Verdi")
        elena = factories.donor(first_name="Elena", last_name="Conti")

        def gift(donor, amount, day, **overrides):
            factories.donation(
                donor=donor, campaign=campaign, amount_cents=amount, received_on=day, **overrides
            )

        gift(anna, 10_000, date(YEAR, 3, 10))
        gift(anna, 5_000, date(YEAR, 6, 1), method=Method.BANK_TRANSFER, refunded_cents=2_000)
        gift(marco, 4_000, date(YEAR, 5, 5))
        gift(marco, 3_000, date(YEAR - 1, 12, 31))
        gift(
            marco,
            3_000,
            date(YEAR, 7, 7),
            status=Status.REFUNDED,
            refunded_cents=3_000,
            succeeded_at=datetime(YEAR, 7, 7, 10, tzinfo=UTC),
        )
        gift(elena, 6_000, date(YEAR, 11, 11))
        gift(elena, 1_500, date(YEAR, 12, 24), method=Method.CASH)
        factories.donation(campaign=other_campaign, received_on=date(YEAR, 4, 4))
        treasurer = factories.user(roles=("treasurer",), password=PASSWORD)
        return {
            "treasurer": treasurer.email,
            "org_id": org.id,
            "org_slug": org.slug,
            "owed": {
                "Anna Bianchi": Decimal("130.00"),
                "Marco Verdi": Decimal("40.00"),
                "Elena Conti": Decimal("75.00"),
            },
        }


def _index(archive: zipfile.ZipFile) -> list[dict]:
    text = archive.read("index.csv").decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def test_treasurer_issues_annual_receipts_then_downloads_the_zip(live_server, page, tmp_path):
    base = live_server.url
    data = _setup(live_server.app)
    donors = len(data["owed"])
    browser_log_in(page, base, data["treasurer"], PASSWORD)

    # The annual receipts page: the year of the gifts and one organisation, then start.
    page.goto(f"{base}/staff/receipts/annual")
    page.fill("#year", str(YEAR))
    page.select_option("#organisation", str(data["org_id"]))
    with page.expect_navigation():
        page.click("main form.form button[type=submit]")
    job_url = page.url
    assert re.fullmatch(rf"{re.escape(base)}/staff/receipts/annual/[0-9]+", job_url)

    # The progress page: the bar learns the run's size (each receipt issued, then rendered)
    # while the worker processes start, and the page shows the outcome when the run ends.
    bar = page.locator("#annual-progress progress.bar")
    expect(bar).to_have_attribute("max", str(2 * donors), timeout=30_000)
    page.screenshot(path=str(tmp_path / "annual-progress.png"), full_page=True)
    done = page.locator("p.done[role=status]")
    expect(done).to_be_visible(timeout=120_000)
    assert bar.count() == 0
    # Issued, PDFs stored, donors who already had theirs.
    assert re.findall(r"\d+", done.inner_text()) == [str(donors), str(donors), "0"]
    status = page.request.get(f"{job_url}/status").json()
    assert status["status"] == "done"
    assert (status["done"], status["total"]) == (2 * donors, 2 * donors)
    page.screenshot(path=str(tmp_path / "annual-done.png"), full_page=True)

    with live_server.app.app_context():
        receipts = db.session.scalars(select(Receipt).where(Receipt.kind == Kind.ANNUAL)).all()
        assert len(receipts) == donors  # the other organisation's donor was not chosen
        assert {r.organisation_id for r in receipts} == {data["org_id"]}
        assert all(r.pdf_sha256 for r in receipts)
        issue_year = receipts[0].year
    assert issue_year == today_rome().year  # numbered in the year of issue, not of the gifts

    # The exports page: the ZIP of the receipts issued this year by the organisation.
    page.goto(f"{base}/staff/receipts/exports")
    zip_form = page.locator('form[action$="/receipts.zip"]')
    zip_form.locator("input[name=year]").fill(str(issue_year))
    zip_form.locator("select[name=organisation]").select_option(str(data["org_id"]))
    with page.expect_download() as download_info:
        zip_form.locator("button[type=submit]:not([formaction])").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".zip")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    page.screenshot(path=str(tmp_path / "exports.png"), full_page=True)

    with zipfile.ZipFile(saved) as archive:
        names = archive.namelist()
        index = _index(archive)
        pdfs = {name: archive.read(name) for name in names if name.endswith(".pdf")}
    assert sorted(names) == sorted([*pdfs, "index.csv"])
    assert len(pdfs) == donors
    assert all(body.startswith(b"%PDF-") for body in pdfs.values())
    assert all(name.startswith(f"{data['org_slug']}/") for name in pdfs)
    assert sorted(row["File"] for row in index) == sorted(pdfs)
    amounts = {row["Donatore"]: Decimal(row["Importo (€)"].replace(",", ".")) for row in index}
    assert amounts == data["owed"]
    assert {row["Stato"] for row in index} == {"emessa"}
