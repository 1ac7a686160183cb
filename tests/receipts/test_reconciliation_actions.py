"""The reconciliation the treasurer acts on: methods in words, each line a link to its
filtered list whose total is the line's, cash and other non-deductible gifts apart from
the deductible ones without a receipt, and "issue the missing receipts" as a run with a
progress page that issues and mails them."""

from datetime import timedelta

import lxml.html
from sqlalchemy import func, select

from legami import jobs
from legami.extensions import db
from legami.timeutil import today_rome
from mailing.models import MailJob
from payments.models import Method
from receipts import exports, issuing
from receipts.models import Receipt, ReceiptDue, ReceiptStatus
from tests import factories


def _year_of_gifts():
    org = factories.organisation()
    campaign = factories.campaign(organisation=org, title="Orti in città")
    other = factories.campaign(organisation=org, title="Doposcuola")
    day = today_rome() - timedelta(days=1) if today_rome().day > 1 else today_rome()
    receipted = factories.donation(campaign=campaign, amount_cents=5000, received_on=day)
    issuing.issue_for_gift(receipted.id)
    missing = [
        factories.donation(campaign=campaign, amount_cents=2500, received_on=day),
        factories.donation(campaign=other, amount_cents=1000, received_on=day),
    ]
    cash = factories.donation(campaign=other, method=Method.CASH, amount_cents=700, received_on=day)
    due = factories.donation(campaign=campaign, amount_cents=300, received_on=day)
    db.session.add(ReceiptDue(donation_id=due.id))
    db.session.commit()
    return {"org": org, "missing": missing, "cash": cash, "campaign": campaign}


def _links(html: str) -> dict[str, str]:
    tree = lxml.html.fromstring(html)
    return {" ".join(a.text_content().split()): a.get("href") for a in tree.xpath("//table//a")}


def test_each_line_says_its_method_in_words_and_opens_its_gifts(client, login, english):
    world = _year_of_gifts()
    year = today_rome().year
    login("treasurer")
    page = client.get(f"/staff/receipts/exports/reconciliation?year={year}")
    assert page.status_code == 200
    links = _links(page.text)
    methods = lxml.html.fromstring(page.text).xpath("//table[1]/tbody/tr/td[1]")
    assert [td.text_content().strip() for td in methods] == ["Card", "Cash"]
    card = links["Card"]
    assert "method=card" in card and f"from={year}-01-01" in card and f"to={year}-12-31" in card
    listed = client.get(card)
    # 50 + 25 + 10 + 3 by card, and nothing else, in the list the line opens.
    assert "4 donations" in listed.text and "total €88" in listed.text
    cash = client.get(links["Cash"])
    assert "1 donation" in cash.text and "total €7" in cash.text
    by_campaign = client.get(links["Orti in città"])
    assert f"campaign={world['campaign'].id}" in links["Orti in città"]
    assert "3 donations" in by_campaign.text and "total €78" in by_campaign.text


def test_gifts_without_a_receipt_by_reason_cash_apart(client, login, english):
    _year_of_gifts()
    year = today_rome().year
    rows = exports.unreceipted(year, None)
    assert [(r.reason, r.gifts, r.amount_cents) for r in rows] == [
        ("due", 1, 300),
        ("not_deductible", 1, 700),
        ("missing", 2, 3500),
    ]
    login("treasurer")
    page = client.get(f"/staff/receipts/exports/reconciliation?year={year}")
    links = _links(page.text)
    deductible = links["Tax-deductible gifts without a receipt"]
    assert deductible.startswith("/staff/receipts/exports/reconciliation/without-receipt/missing")
    listed = client.get(deductible)
    assert listed.status_code == 200 and "2 gifts" in listed.text
    assert "Issue the 2 missing receipts" in listed.text
    cash = client.get(
        links["Cash and other untraceable gifts (not tax-deductible) without a receipt"]
    )
    assert "1 gift" in cash.text
    assert "Issue the 2 missing receipts" in page.text
    assert "Issue the missing receipt" in page.text  # the cash line: one


def test_issuing_the_missing_receipts_runs_with_progress_and_mails_them(client, login, english):
    world = _year_of_gifts()
    year = today_rome().year
    login("treasurer")
    started = client.post(
        "/staff/receipts/exports/reconciliation/without-receipt/missing/issue", data={"year": year}
    )
    assert started.status_code == 302
    job_id = started.location.rsplit("/", 1)[1]
    assert jobs.run_due_jobs() == 1
    status = client.get(f"/staff/receipts/annual/{job_id}/status").json
    assert (status["status"], status["issued"], status["done"], status["total"]) == (
        "done",
        2,
        2,
        2,
    )
    done = client.get(started.location)
    assert "Missing receipts of" in done.text and "2 receipts issued" in done.text
    db.session.expire_all()
    for gift in world["missing"]:
        receipt = db.session.scalar(select(Receipt).where(Receipt.donation_id == gift.id))
        assert receipt.status == ReceiptStatus.ISSUED and receipt.amount_cents == gift.amount_cents
    # Each is mailed to its donor: the thank-you went out without it.
    queued = db.session.scalars(
        select(MailJob.donation_id).where(MailJob.donation_id.in_([g.id for g in world["missing"]]))
    ).all()
    assert sorted(queued) == sorted(g.id for g in world["missing"])
    # The cash gift is its own line, untouched; the reconciliation has no deductible gap.
    assert [r.reason for r in exports.unreceipted(year, None)] == ["due", "not_deductible"]
    # Again: nothing left to issue, nothing issued twice.
    again = client.post(
        "/staff/receipts/exports/reconciliation/without-receipt/missing/issue", data={"year": year}
    )
    assert again.status_code == 302 and jobs.run_due_jobs() == 1
    assert db.session.scalar(select(func.count()).select_from(Receipt)) == 3


def test_only_the_treasurer_issues_and_only_what_may_be_issued(client, login):
    _year_of_gifts()
    login("staff")
    url = "/staff/receipts/exports/reconciliation/without-receipt/missing/issue"
    assert client.post(url, data={"year": today_rome().year}).status_code == 403
    client.post("/staff/logout")
    login("treasurer")
    assert client.post(
        "/staff/receipts/exports/reconciliation/without-receipt/due/issue", data={"year": 2026}
    ).status_code in (404, 405)
    assert client.post(url, data={"year": "20x6"}).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Receipt)) == 1
