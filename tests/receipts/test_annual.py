"""Annual receipts: one per donor listing the year's gifts net of refunds, idempotent, from
the command line and the treasurer's page, PDFs rendered by worker processes."""

import io
import zipfile
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from legami import jobs
from legami.extensions import db
from legami.timeutil import today_rome
from payments.models import Method, Status
from receipts import annual, exports, pdf
from receipts.content import euros as format_money
from receipts.issuing import settings_for
from receipts.models import Kind, Policy, Receipt
from tests import factories
from tests.receipts.conftest import pdf_text

YEAR = 2025


# These tests read the pages' English wording.
pytestmark = pytest.mark.usefixtures("english")


def euros(cents: int) -> str:
    return " ".join(format_money(cents).split())


@pytest.fixture
def year_of_gifts(app):
    """An organisation giving annual receipts, a donor's gifts of 2025 and around it."""
    org = factories.organisation(art83_eligible=True)
    settings_for(org.id).policy = Policy.ANNUAL
    per_gift_org = factories.organisation()
    db.session.commit()
    campaign = factories.campaign(organisation=org, title="Doposcuola in via Roma")
    other_campaign = factories.campaign(organisation=org, title="Orti condivisi")
    donor = factories.donor(codice_fiscale="RSSMRA85T10A562S")

    def gift(amount, day, **overrides):
        data = {"donor": donor, "campaign": campaign, "amount_cents": amount, "received_on": day}
        return factories.donation(**{**data, **overrides})

    gifts = {
        "card": gift(10_000, date(YEAR, 3, 10)),
        "partly_refunded": gift(
            5_000,
            date(YEAR, 6, 1),
            method=Method.BANK_TRANSFER,
            refunded_cents=2_000,
            campaign=other_campaign,
        ),
        "refunded": gift(
            3_000,
            date(YEAR, 7, 7),
            status=Status.REFUNDED,
            refunded_cents=3_000,
            succeeded_at=datetime(YEAR, 7, 7, 10, tzinfo=UTC),
        ),
        "cash": gift(1_500, date(YEAR, 9, 9), method=Method.CASH),
        "last_year": gift(4_000, date(YEAR - 1, 12, 31)),
        "failed": gift(6_000, date(YEAR, 10, 1), status=Status.FAILED),
    }
    other_donor_gift = factories.donation(
        campaign=campaign, amount_cents=2_500, received_on=date(YEAR, 2, 2)
    )
    factories.donation(
        campaign=factories.campaign(organisation=per_gift_org), received_on=date(YEAR, 4, 4)
    )
    return {"org": org, "donor": donor, "gifts": gifts, "other_donor": other_donor_gift.donor}


def annual_receipts():
    db.session.expire_all()
    return db.session.scalars(
        select(Receipt).where(Receipt.kind == Kind.ANNUAL).order_by(Receipt.id)
    ).all()


def test_the_annual_receipt_sums_the_years_gifts_net_of_refunds(year_of_gifts):
    outcome = annual.issue_annual(YEAR, workers=1)
    assert (outcome.issued, outcome.rendered, outcome.skipped) == (2, 2, 0)
    receipts = annual_receipts()
    assert {r.donor_id for r in receipts} == {
        year_of_gifts["donor"].id,
        year_of_gifts["other_donor"].id,
    }
    receipt = next(r for r in receipts if r.donor_id == year_of_gifts["donor"].id)
    gifts = year_of_gifts["gifts"]
    assert receipt.amount_cents == 10_000 + 3_000 + 1_500
    assert {g.donation_id: g.amount_cents for g in receipt.gifts} == {
        gifts["card"].id: 10_000,
        gifts["partly_refunded"].id: 3_000,
        gifts["cash"].id: 1_500,
    }
    assert receipt.snapshot["annual"] == {"year": YEAR, "deductible_cents": 13_000}
    assert receipt.organisation_id == year_of_gifts["org"].id
    assert receipt.pdf_path and receipt.pdf_sha256  # stored by a worker process

    text = pdf_text(pdf.stored_bytes(receipt))
    assert receipt.display_number in text
    assert f"ricevuta annuale {YEAR}" in text
    assert euros(14_500) in text
    assert f"{euros(13_000)}" in text.split("Totale detraibile o deducibile")[1]
    for line in (
        f"10 marzo {YEAR} Carta di pagamento Doposcuola in via Roma {euros(10_000)}",
        f"1 giugno {YEAR} Bonifico bancario Orti condivisi {euros(3_000)}",
        f"9 settembre {YEAR} Contanti non detraibile né deducibile Doposcuola in via Roma"
        f" {euros(1_500)}",
    ):
        assert line in text
    for campaign in (gifts["card"].campaign, gifts["partly_refunded"].campaign):
        assert f"http://localhost/campagne/{campaign.slug}" in text
    # The refunded July gift and last December's are left out (the issue date may be in December).
    assert f"luglio {YEAR}" not in text and f"dicembre {YEAR - 1}" not in text
    assert euros(6_000) not in text
    assert "non detraibile né deducibile" in text  # the cash line of the legal text


def test_running_again_issues_only_what_is_missing(year_of_gifts):
    annual.issue_annual(YEAR, workers=1)
    first = [(r.id, r.number) for r in annual_receipts()]
    again = annual.issue_annual(YEAR, workers=1)
    assert (again.issued, again.skipped) == (0, 2)
    assert [(r.id, r.number) for r in annual_receipts()] == first

    newcomer = factories.donation(
        campaign=year_of_gifts["gifts"]["card"].campaign, received_on=date(YEAR, 12, 1)
    )
    third = annual.issue_annual(YEAR, year_of_gifts["org"].id, workers=1)
    assert (third.issued, third.skipped) == (1, 2)
    receipts = annual_receipts()
    assert receipts[-1].donor_id == newcomer.donor_id
    assert sorted(r.number for r in receipts) == [1, 2, 3]


def test_the_command_line(app, year_of_gifts):
    runner = app.test_cli_runner()
    args = ["receipts", "issue-annual", "--year", str(YEAR), "--workers", "1"]
    result = runner.invoke(args=[*args, "--organisation", year_of_gifts["org"].slug])
    assert result.exit_code == 0, result.output
    assert "2 annual receipts issued, 2 PDFs stored; 0 donors already had theirs." in result.output
    assert len(annual_receipts()) == 2
    result = runner.invoke(args=args)
    assert "0 annual receipts issued, 0 PDFs stored; 2 donors already had theirs." in result.output
    result = runner.invoke(args=[*args, "--organisation", "nessuna"])
    assert result.exit_code != 0 and "no organisation" in result.output


def test_the_treasurers_page(client, login, year_of_gifts):
    login("treasurer")
    page = client.get("/staff/receipts/annual")
    assert page.status_code == 200 and "Annual receipts" in page.text
    started = client.post("/staff/receipts/annual", data={"year": YEAR, "organisation": 0})
    assert started.status_code == 302
    job_id = started.location.rsplit("/", 1)[1]
    # The request only queued the run: nothing issued until a worker takes it.
    waiting = client.get(f"/staff/receipts/annual/{job_id}/status").json
    assert (waiting["status"], waiting["done"], waiting["year"]) == ("running", 0, YEAR)
    assert annual_receipts() == []
    assert jobs.run_due_jobs() == 1
    status = client.get(f"/staff/receipts/annual/{job_id}/status").json
    assert status["status"] == "done"
    assert (status["issued"], status["rendered"], status["done"]) == (2, 2, status["total"])
    done = client.get(started.location)
    assert "2 receipts issued, 2 PDFs stored; 0 donors already had theirs." in done.text
    assert "/staff/receipts" in done.text
    assert db.session.scalar(select(func.count()).select_from(Receipt)) == 2
    assert client.post("/staff/receipts/annual", data={"year": 1}).status_code == 422
    assert client.get("/staff/receipts/annual/nosuchjob").status_code == 404
    assert client.get(f"/staff/receipts/annual/{int(job_id) + 1}").status_code == 404


def test_only_the_treasurer_issues_annual_receipts(client, login, year_of_gifts):
    login("staff")
    assert client.get("/staff/receipts/annual").status_code == 403
    assert client.post("/staff/receipts/annual", data={"year": YEAR}).status_code == 403
    assert annual_receipts() == []


def test_a_run_skips_donors_another_run_covered_meanwhile(year_of_gifts):
    batches = annual.issue_batches(YEAR, batch=1)
    first_ids, skipped, planned = next(batches)
    assert (len(first_ids), skipped, planned) == (1, 0, 2)
    assert annual.issue_annual(YEAR, workers=1).issued == 1  # the other run takes the rest
    assert [(ids, skipped) for ids, skipped, _ in batches] == [([], 1)]
    assert len(annual_receipts()) == 2


def test_the_done_page_links_to_the_zip_of_the_year_the_receipts_are_numbered_in(
    client, login, year_of_gifts
):
    """Gifts of 2025 get annual receipts numbered in the year they are issued: the link goes
    to that year's ZIP, which holds the receipts just issued."""
    org = year_of_gifts["org"]
    login("treasurer")
    started = client.post("/staff/receipts/annual", data={"year": YEAR, "organisation": org.id})
    assert jobs.run_due_jobs() == 1
    issued_in = today_rome().year
    assert issued_in > YEAR
    done = client.get(started.location).text
    link = f"/staff/receipts/exports/receipts.zip?year={issued_in}&amp;organisation={org.id}"
    assert link in done
    assert f"Download the receipts numbered in {issued_in} (ZIP)" in done

    archive = zipfile.ZipFile(io.BytesIO(client.get(link.replace("&amp;", "&")).data))
    receipts = annual_receipts()
    assert len(receipts) == 2
    assert all(r.display_number.startswith(f"{issued_in}/") for r in receipts)
    assert sorted(archive.namelist()) == sorted(
        [*(exports.file_name(r) for r in receipts), "index.csv"]
    )
