"""Property: whatever order statements are imported in, however often, in whichever format
or encoding (credits, reversals, a USD credit, batch entries, re-imports), interleaved with
the receipt job, money stays exact: campaign raised = the gifts' net amounts = the donors'
year totals, to the cent; each line confirms at most once; each gift ends where a model of
the bank's facts says (paid, reversed before or after its receipt, never paid)."""

from collections import Counter, defaultdict
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from campaigns.models import Campaign
from donors.models import DonorYearTotal
from legami.extensions import db
from legami.models import AuditEntry
from payments import bank_csv, camt, statements
from payments.models import CsvMapping, Donation, StatementLine
from payments.totals import counted
from receipts import issuing
from receipts.models import Receipt, ReceiptDue
from tests import factories
from tests.payments.statements import DARE_AVERE, csv_bytes, pledge

EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CAMT = (
    '<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:'
    'camt.053.001.{version}"><BkToCstmrStmt><GrpHdr><MsgId>M</MsgId><CreDtTm>2026-01-05T06:00:00'
    "</CreDtTm></GrpHdr><Stmt><Id>S</Id><Acct><Id><IBAN>IT53X0503411400000000012345</IBAN></Id>"
    "<Ccy>EUR</Ccy></Acct>{entries}</Stmt></BkToCstmrStmt></Document>"
)


def _entry(ref: str, cents: int, booked: str, causale: str, **extra) -> str:
    side = extra.get("side", "CRDT")
    reversal = "<RvslInd>true</RvslInd>" if extra.get("reversal") else ""
    accepted = extra.get("accepted")
    dates = f"<RltdDts><AccptncDtTm>{accepted}</AccptncDtTm></RltdDts>" if accepted else ""
    amount = f'<Amt Ccy="{extra.get("currency", "EUR")}">{cents / 100:.2f}</Amt>'
    return (
        f"<Ntry>{amount}<CdtDbtInd>{side}</CdtDbtInd>{reversal}<Sts>BOOK</Sts>"
        f"<BookgDt><Dt>{booked}</Dt></BookgDt><ValDt><Dt>{booked}</Dt></ValDt>"
        f"<AcctSvcrRef>{ref}</AcctSvcrRef><NtryDtls><TxDtls><Refs><EndToEndId>"
        f"{extra.get('e2e', 'NOTPROVIDED')}</EndToEndId></Refs><RltdPties><Dbtr><Nm>DONATORE</Nm>"
        f"</Dbtr></RltdPties><RmtInf><Ustrd>{causale}</Ustrd></RmtInf>{dates}</TxDtls></NtryDtls>"
        "</Ntry>"
    )


def _batch(booked: str, parts: list[tuple[int, str]]) -> str:
    total = sum(cents for cents, _ in parts)
    txs = "".join(
        f'<TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">{cents / 100:.2f}</Amt></TxAmt></AmtDtls>'
        f"<RmtInf><Ustrd>{causale}</Ustrd></RmtInf></TxDtls>"
        for cents, causale in parts
    )
    return (
        f'<Ntry><Amt Ccy="EUR">{total / 100:.2f}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
        f"<BookgDt><Dt>{booked}</Dt></BookgDt><AcctSvcrRef>BATCH-1</AcctSvcrRef>"
        f"<NtryDtls><Btch><NbOfTxs>{len(parts)}</NbOfTxs></Btch>{txs}</NtryDtls></Ntry>"
    )


@dataclass(frozen=True)
class File:
    """A statement file and the bank facts it carries: (kind, gift index)."""

    name: str
    fmt: str
    data: bytes
    facts: tuple[tuple[str, int], ...]


@dataclass
class World:
    organisation_id: int
    campaign_id: int
    gifts: list[int]
    files: list[File]


@pytest.fixture
def world(app) -> World:
    campaign = factories.campaign(goal_cents=1_000_000)
    first = pledge(campaign, 5000)
    second = pledge(campaign, 3000, donor_id=first.donor_id)  # one donor, two years
    third = pledge(campaign, 2000)
    fourth = pledge(campaign, 1250)
    refs = [g.payment_reference for g in (first, second, third, fourth)]

    def camt_file(version: str, *entries: str) -> bytes:
        return CAMT.format(version=version, entries="".join(entries)).encode()

    credit0 = _entry("A-1", 5000, "2025-12-30", f"DONO {refs[0]}", e2e="E2E-0")
    credit1 = _entry(
        "A-2", 3000, "2026-01-02", f"DONO {refs[1]}", accepted="2025-12-31T18:00:00+01:00"
    )
    csv_rows = [
        ["Data contabile", "Data valuta", "Dare", "Avere", "Descrizione operazione"],
        ["03/01/2026", "02/01/2026", "", "20,00", f"BONIFICO Niccolò {refs[2]}"],
        ["Saldo contabile finale", "", "", "12.345,67", ""],
    ]
    storno_rows = [
        csv_rows[0],
        ["04/01/2026", "02/01/2026", "-20,00", "", f"STORNO BONIFICO Niccolò {refs[2]}"],
    ]
    files = [
        File("credit 0 (.02)", "camt053", camt_file("02", credit0), (("credit", 0),)),
        File("credit 1 (.08)", "camt053", camt_file("08", credit1), (("credit", 1),)),
        File(
            "credits 0 and 1 (.02)",
            "camt053",
            camt_file("02", credit0, credit1),
            (("credit", 0), ("credit", 1)),
        ),
        File("credit 2 (cp1252)", "csv", csv_bytes(csv_rows, "cp1252"), (("credit", 2),)),
        File("credit 2 (utf-16)", "csv", csv_bytes(csv_rows, "utf-16", "\t"), (("credit", 2),)),
        File(
            "batch with credit 3",
            "camt053",
            camt_file("08", _batch("2026-01-04", [(1250, refs[3]), (700, "QUOTA SOCIALE")])),
            (("credit", 3),),
        ),
        File(
            "USD credit naming gift 0",
            "camt053",
            camt_file("02", _entry("U-1", 5000, "2026-01-04", refs[0], currency="USD")),
            (),
        ),
        File(
            "reversal of 0",
            "camt053",
            camt_file(
                "08",
                _entry("R-1", 5000, "2026-01-05", "STORNO", side="DBIT", reversal=1, e2e="E2E-0"),
            ),
            (("reversal", 0),),
        ),
        File("storno of 2", "csv", csv_bytes(storno_rows, "cp1252"), (("reversal", 2),)),
        File(
            "reversal of 3",
            "camt053",
            camt_file(
                "02",
                _entry("R-3", 1250, "2026-01-06", f"STORNO {refs[3]}", side="DBIT", reversal=1),
            ),
            (("reversal", 3),),
        ),
    ]
    db.session.add(CsvMapping(organisation_id=campaign.organisation_id, **DARE_AVERE))
    db.session.commit()
    return World(
        campaign.organisation_id,
        campaign.id,
        [g.id for g in (first, second, third, fourth)],
        files,
    )


class Model:
    """What the bank's facts, in the order they were learnt, make of each gift."""

    def __init__(self, n: int):
        self.status = ["pending"] * n
        self.credited = [False] * n
        self.reversed = [False] * n
        self.receipted = [False] * n

    def learn(self, kind: str, index: int) -> None:
        if kind == "credit" and not self.credited[index]:
            self.credited[index] = True
            if not self.reversed[index]:
                self.status[index] = "succeeded"
        elif kind == "reversal" and not self.reversed[index]:
            self.reversed[index] = True
            if self.status[index] == "succeeded":
                self.status[index] = "refunded" if self.receipted[index] else "pending"

    def receipts_issued(self) -> None:
        for index, status in enumerate(self.status):
            if status == "succeeded":
                self.receipted[index] = True


def _import(world: World, file: File) -> None:
    if file.fmt == "csv":
        mapping = statements.saved_mapping(world.organisation_id)
        parsed = bank_csv.read(file.data, mapping)
    else:
        parsed = camt.read(file.data)
    statements.import_statement(world.organisation_id, file.name, file.fmt, parsed, None)


def _issue_receipts() -> None:
    """The receipt job's work, inside the example's transaction (issue_due commits)."""
    for donation_id in db.session.scalars(select(ReceiptDue.donation_id)).all():
        issuing.issue_for_gift(donation_id)
    db.session.execute(delete(ReceiptDue))


def _check(world: World, model: Model) -> None:
    db.session.expire_all()
    gifts = [db.session.get(Donation, i) for i in world.gifts]
    assert [g.status for g in gifts] == model.status
    net = sum(counted(g)[0] for g in gifts)
    count = sum(counted(g)[1] for g in gifts)
    campaign = db.session.get(Campaign, world.campaign_id)
    assert (campaign.raised_cents, campaign.gift_count) == (net, count)
    by_year = defaultdict(lambda: [0, 0])
    for g in gifts:
        if g.received_on is not None:
            by_year[(g.donor_id, g.received_on.year)][0] += counted(g)[1]
            by_year[(g.donor_id, g.received_on.year)][1] += counted(g)[0]
    years = {
        (row.donor_id, row.year): [row.gifts, row.net_cents]
        for row in db.session.scalars(select(DonorYearTotal))
        if row.gifts or row.net_cents
    }
    assert years == {key: value for key, value in by_year.items() if value != [0, 0]}
    # Each line confirms at most once; each confirmation comes from one line.
    sources = Counter(
        entry.detail["source"]
        for entry in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "donation.confirm")
        )
    )
    assert all(times == 1 for times in sources.values())
    for g in gifts:
        valid = db.session.scalars(
            select(Receipt).where(Receipt.donation_id == g.id, Receipt.status == "issued")
        ).all()
        assert len(valid) <= 1 and (not valid or g.status == "succeeded")


@EXAMPLES
@given(data=st.data())
def test_any_order_of_statement_imports_keeps_money_exact(world: World, data):
    steps = data.draw(
        st.lists(
            st.one_of(st.integers(0, len(world.files) - 1), st.just("receipts")),
            min_size=1,
            max_size=14,
        )
    )
    model = Model(len(world.gifts))
    try:
        for step in steps:
            if step == "receipts":
                _issue_receipts()
                model.receipts_issued()
            else:
                file = world.files[step]
                _import(world, file)
                for kind, index in file.facts:
                    model.learn(kind, index)
            _check(world, model)
        # Everything imported again changes nothing.
        lines = db.session.scalar(select(func.count()).select_from(StatementLine))
        for step in dict.fromkeys(s for s in steps if s != "receipts"):
            _import(world, world.files[step])
        assert db.session.scalar(select(func.count()).select_from(StatementLine)) == lines
        _check(world, model)
    finally:
        db.session.rollback()
