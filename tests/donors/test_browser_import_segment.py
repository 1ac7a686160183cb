"""Staff imports a CSV in a real browser through the column mapping, the dry run and the run,
then builds a segment of the imported donors and sees its live count.

Elements are found by ids, field names and data attributes, not by visible text; the few texts
asserted (a reject reason, the counts) are rendered by the app itself, in the page's language.
"""

import re

import pytest
from flask_babel import ngettext
from playwright.sync_api import expect
from sqlalchemy import func, select

from donors import segments
from donors.import_plan import describe
from donors.models import Donor, ImportJob, ImportStatus, Segment, Tag
from legami.extensions import db
from tests import factories
from tests.conftest import browser_log_in

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"

# "Gruppo" is no header the generic preset knows: the staff member maps it to the tags.
CSV = """E-mail,Nome,Cognome,Città,Newsletter,Gruppo
anna.bianchi@example.org,Anna,Bianchi,Lecco,sì,Volontari
marco.verdi@example.org,Marco,Verdi,Lecco,yes,Volontari
non-una-email,Paolo,Neri,Lecco,yes,Volontari
luca.galli@example.org,Luca,Galli,Lecco,no,Volontari
elena.conti@example.org,Elena,Conti,Lecco,yes,Sostenitori
sara.russo@example.org,Sara,Russo,Como,yes,Volontari
"""
MATCHING = ["anna.bianchi@example.org", "marco.verdi@example.org"]


def _texts(app) -> dict[str, object]:
    """What the app says, in the language the browser gets (Italian, the default)."""
    with app.test_request_context():

        def matches(n, now=False):
            if now:
                return ngettext("%(num)s donor matches now.", "%(num)s donors match now.", n)
            return ngettext("%(num)s donor matches.", "%(num)s donors match.", n)

        return {
            "bad_email": describe("bad_email"),
            **{f"count-{n}": matches(n) for n in (2, 3, 4, 5)},
            "now-2": matches(2, now=True),
        }


def test_staff_imports_a_csv_and_counts_a_segment_of_it(live_server, page, tmp_path):
    base = live_server.url
    app = live_server.app
    with app.app_context():
        staff_email = factories.user(roles=("staff",), password=PASSWORD).email
    texts = _texts(app)
    upload = tmp_path / "soci.csv"
    upload.write_text(CSV, encoding="utf-8")

    browser_log_in(page, base, staff_email, PASSWORD)

    # Upload: the generic preset, then the mapping page.
    page.goto(f"{base}/staff/imports")
    page.set_input_files("#file", str(upload))
    expect(page.locator("#preset")).to_have_value("generic")
    with page.expect_navigation():
        page.click("main form.form button[type=submit]")
    page.wait_for_url(re.compile(rf"{re.escape(base)}/staff/imports/\d+/mapping$"))
    job_id = int(page.url.split("/")[-2])

    # The preset recognised the Italian headers; the unknown one is ignored until mapped.
    for index, target in enumerate(["email", "first_name", "last_name", "town", "consent"]):
        expect(page.locator(f"#columns-{index}")).to_have_value(target)
    expect(page.locator("#columns-5")).to_have_value("ignore")
    page.select_option("#columns-5", "tags")
    expect(page.locator("#status")).to_have_value("rows")

    # The dry run: five new donors, one rejected with its reason; nothing imported yet.
    with page.expect_navigation() as navigation:
        page.click("main form.form button[type=submit]")
    assert navigation.value.status == 200, page.content()
    assert page.url == f"{base}/staff/imports/{job_id}"
    expect(page.locator("span[data-count=create]")).to_have_text("5")
    expect(page.locator("span[data-count=reject]")).to_have_text("1")
    expect(page.locator("span[data-count=update]")).to_have_text("0")
    rejected = page.locator("table.table tbody tr", has_text="non-una-email")
    expect(rejected).to_contain_text(texts["bad_email"])
    with page.expect_navigation():
        page.click(f'a[href="/staff/imports/{job_id}?outcome=reject"]')
    expect(page.locator("table.table tbody tr")).to_have_count(1)
    expect(page.locator("table.table tbody tr")).to_contain_text(texts["bad_email"])
    with app.app_context():
        assert db.session.scalar(select(func.count(Donor.id))) == 0
        assert db.session.get(ImportJob, job_id).status == ImportStatus.CHECKED

    # The run: the page follows the progress until the job is done, then shows what it did.
    run_button = page.locator(f'form[action="/staff/imports/{job_id}/run"] button[type=submit]')
    with page.expect_navigation():
        run_button.click()
    assert page.url == f"{base}/staff/imports/{job_id}"
    expect(page.locator("#import-progress")).to_have_count(0, timeout=15_000)
    expect(page.locator(f'form[action="/staff/imports/{job_id}/run"]')).to_have_count(0)
    expect(page.locator("span[data-count=create]")).to_have_text("5")
    expect(page.locator("span[data-count=reject]")).to_have_text("1")
    with app.app_context():
        job = db.session.get(ImportJob, job_id)
        assert (job.status, job.created, job.rejected) == (ImportStatus.DONE, 5, 1)
        volunteers = db.session.scalar(select(Tag.id).where(Tag.name == "Volontari"))
        assert volunteers is not None

    # The segment builder: each criterion narrows the live count.
    page.goto(f"{base}/staff/segments/new")
    count = page.locator("#segment-count")
    expect(count).to_have_text(texts["count-5"])
    page.fill("#name", "Volontari di Lecco iscritti")
    page.fill("#towns", "lecco")
    expect(count).to_have_text(texts["count-4"])
    page.select_option("#newsletter_consent", "yes")
    expect(count).to_have_text(texts["count-3"])
    page.check(f'input[name=tags][value="{volunteers}"]')
    expect(count).to_have_text(texts["count-2"])

    with app.app_context():
        matching = db.session.scalars(
            select(Donor.email)
            .where(
                Donor.town == "Lecco",
                Donor.newsletter_consent.is_(True),
                Donor.tags.any(Tag.id == volunteers),
            )
            .order_by(Donor.email)
        ).all()
        assert matching == MATCHING

    # Saved, its page counts the same donors.
    with page.expect_navigation() as navigation:
        page.click("#save")
    assert navigation.value.status == 200, page.content()
    page.wait_for_url(re.compile(rf"{re.escape(base)}/staff/segments/\d+$"))
    segment_id = int(page.url.split("/")[-1])
    expect(page.locator("main strong", has_text=texts["now-2"])).to_have_count(1)
    rows = page.locator("table.table tbody tr")
    expect(rows).to_have_count(2)
    for email in MATCHING:
        expect(rows.filter(has_text=email)).to_have_count(1)

    with app.app_context():
        segment = db.session.get(Segment, segment_id)
        assert segment.name == "Volontari di Lecco iscritti"
        assert segments.count(segment.definition) == 2

    shot = tmp_path / "segment.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 0
