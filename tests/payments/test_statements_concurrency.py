"""Statement imports at the same moment, on PostgreSQL: the same statement imported by four
threads records each line once and confirms each gift once; a reversal racing the receipt
job ends either receipted-and-refunded or pending-without-receipt, never half of each."""

import threading

import pytest
from sqlalchemy import func, select

from campaigns.models import Campaign
from legami.extensions import db
from legami.models import AuditEntry
from payments import camt, statements
from payments.models import Donation, StatementLine
from receipts import issuing
from receipts.models import Receipt
from tests import factories
from tests.payments.statements import pledge

THREADS = 4


def _entry(n: int, reference: str, cents: int, side: str = "CRDT", reversal: str = "") -> str:
    return (
        f'<Ntry><Amt Ccy="EUR">{cents / 100:.2f}</Amt><CdtDbtInd>{side}</CdtDbtInd>{reversal}'
        f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-12-0{1 + (side == 'DBIT')}</Dt></BookgDt>"
        f"<NtryDtls><TxDtls><Refs><AcctSvcrRef>{side}-{n:04d}</AcctSvcrRef>"
        f'<EndToEndId>E2E-{n:04d}</EndToEndId></Refs><Amt Ccy="EUR">{cents / 100:.2f}</Amt>'
        f"<RmtInf><Ustrd>DONO {reference}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
    )


def _statement(entries: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:'
        'camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>M</MsgId><CreDtTm>2026-12-02T06:00:00'
        "</CreDtTm></GrpHdr><Stmt><Id>S</Id><Acct><Id><IBAN>IT53X0503411400000000012345</IBAN>"
        f"</Id></Acct>{''.join(entries)}</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def _run(app, jobs) -> list[Exception]:
    """Each job in its own thread and app context, started together; returns their errors."""
    barrier = threading.Barrier(len(jobs))
    errors = []

    def worker(job):
        with app.app_context():
            barrier.wait()
            try:
                job()
                db.session.commit()
            except Exception as exc:  # reported by the test, with the thread's failure
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


@pytest.mark.postgres
def test_one_statement_imported_by_four_threads_confirms_each_gift_once(app):
    campaign = factories.campaign()
    gifts = [pledge(campaign, 1000 + n) for n in range(30)]
    data = _statement([_entry(n, g.payment_reference, g.amount_cents) for n, g in enumerate(gifts)])
    organisation_id = campaign.organisation_id

    def job():
        statements.import_statement(
            organisation_id, "estratto.xml", "camt053", camt.read(data), None
        )

    assert _run(app, [job] * THREADS) == []
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(StatementLine)) == 30
    assert {d.status for d in db.session.scalars(select(Donation))} == {"succeeded"}
    confirms = db.session.scalars(
        select(AuditEntry.target).where(AuditEntry.action == "donation.confirm")
    ).all()
    assert sorted(confirms) == sorted(f"donation:{g.id}" for g in gifts)
    imports = db.session.scalars(
        select(AuditEntry.detail).where(AuditEntry.action == "statement.import")
    ).all()
    assert sorted((i["matched"], i["already"]) for i in imports) == [(0, 30)] * 3 + [(30, 0)]
    assert db.session.get(Campaign, campaign.id).raised_cents == sum(g.amount_cents for g in gifts)


@pytest.mark.postgres
def test_a_reversal_racing_the_receipt_job_is_all_or_nothing(app):
    campaign = factories.campaign()
    gifts = [pledge(campaign, 2000 + n) for n in range(12)]
    organisation_id = campaign.organisation_id
    credits = _statement(
        [_entry(n, g.payment_reference, g.amount_cents) for n, g in enumerate(gifts)]
    )
    statements.import_statement(organisation_id, "dic.xml", "camt053", camt.read(credits), None)
    db.session.commit()
    reversal = "<RvslInd>true</RvslInd>"
    reversals = _statement(
        [
            _entry(n, g.payment_reference, g.amount_cents, "DBIT", reversal)
            for n, g in enumerate(gifts)
        ]
    )

    def reverse():
        statements.import_statement(
            organisation_id, "storni.xml", "camt053", camt.read(reversals), None
        )

    assert _run(app, [reverse, issuing.issue_due]) == []
    db.session.expire_all()
    for g in gifts:
        donation = db.session.get(Donation, g.id)
        receipts = db.session.scalars(select(Receipt).where(Receipt.donation_id == g.id)).all()
        if donation.status == "pending":
            assert receipts == []
        else:
            assert donation.status == "refunded" and donation.refunded_cents == g.amount_cents
            assert [r.status for r in receipts] == ["voided"]
    assert db.session.get(Campaign, campaign.id).raised_cents == 0
    # The job's next run issues nothing for the reversed gifts.
    issuing.issue_due()
    assert (
        db.session.scalar(
            select(func.count()).select_from(Receipt).where(Receipt.status == "issued")
        )
        == 0
    )
