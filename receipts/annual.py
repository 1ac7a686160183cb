"""Annual receipts: one per donor and organisation, listing each gift received in a year.

Under the "both" policy a gift may already have a receipt of its own: it is then never
listed on a second receipt. Such gifts go on an unnumbered summary ("Riepilogo delle
erogazioni", Kind.SUMMARY) that names each one's receipt and says it neither replaces nor
adds to them; only the gifts without one are covered by a numbered annual receipt. A gift
from a joint account (payments: `joint_donor_id`) counts half for each holder.

Issuing writes rows in this process, in batches (one transaction each, numbers taken with
receipts.numbering inside it); the PDFs are rendered by a pool of worker processes, each
with its own app (one FontConfiguration per process, see receipts.pdf), fed the ids of
each batch as soon as it is committed. Re-running for the same year issues only what is
missing: a donor with a valid annual receipt covering gifts of that year from that
organisation is skipped. A PDF a worker fails to store is left to the scheduler's
`render_due`, which stores every receipt still without one.
"""

import logging
import pickle
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from multiprocessing import get_context

from flask import current_app
from sqlalchemy import extract, or_, select, union

from donors.models import Donor
from legami.extensions import db
from legami.timeutil import ROME, now_utc
from payments.models import Donation, Status
from receipts import content, numbering, pdf
from receipts import signals as receipt_signals
from receipts.issuing import settings_for
from receipts.models import Kind, Policy, Receipt, ReceiptGift, ReceiptSettings, ReceiptStatus

log = logging.getLogger(__name__)

BATCH = 50
ANNUAL_POLICIES = (Policy.ANNUAL, Policy.BOTH)


@dataclass
class Outcome:
    """What a run did: receipts issued, donors skipped (already had one), PDFs stored."""

    issued: int = 0
    skipped: int = 0
    rendered: int = 0
    receipt_ids: list[int] = field(default_factory=list)


def _organisations(organisation_id: int | None) -> list[int]:
    """Organisations whose policy gives annual receipts (all, or the one asked for)."""
    query = select(ReceiptSettings.organisation_id).where(
        ReceiptSettings.policy.in_(ANNUAL_POLICIES)
    )
    if organisation_id is not None:
        query = query.where(ReceiptSettings.organisation_id == organisation_id)
    return list(db.session.scalars(query.order_by(ReceiptSettings.organisation_id)))


def _year_gifts(year: int):
    """Succeeded gifts received in `year` with money left after refunds."""
    return (
        Donation.succeeded_at.is_not(None),
        Donation.status.in_((Status.SUCCEEDED, Status.REFUNDED)),
        Donation.amount_cents > Donation.refunded_cents,
        Donation.received_on >= date(year, 1, 1),
        Donation.received_on <= date(year, 12, 31),
    )


def _already_covered(organisation_id: int, year: int):
    """Donors with a valid annual receipt or summary of this organisation for `year`."""
    return (
        select(Receipt.donor_id)
        .join(ReceiptGift, ReceiptGift.receipt_id == Receipt.id)
        .join(Donation, Donation.id == ReceiptGift.donation_id)
        .where(
            Receipt.organisation_id == organisation_id,
            Receipt.kind.in_((Kind.ANNUAL, Kind.SUMMARY)),
            Receipt.status == ReceiptStatus.ISSUED,
            extract("year", Donation.received_on) == year,
        )
    )


def _givers(year: int, organisation_id: int):
    """Donors with gifts of the organisation in `year`: givers and joint account holders."""
    gifts = (Donation.organisation_id == organisation_id, *_year_gifts(year))
    both = union(
        select(Donation.donor_id.label("donor_id")).where(*gifts),
        select(Donation.joint_donor_id.label("donor_id")).where(
            *gifts, Donation.joint_donor_id.is_not(None)
        ),
    ).subquery()
    return both.c.donor_id


def pending_donors(year: int, organisation_id: int) -> list[int]:
    """Donors of the organisation with gifts in `year` and no annual receipt for it yet."""
    donor_id = _givers(year, organisation_id)
    return list(
        db.session.scalars(
            select(donor_id)
            .where(donor_id.not_in(_already_covered(organisation_id, year)))
            .order_by(donor_id)
        )
    )


def _donors_with_gifts(year: int, organisation_id: int) -> int:
    return len(db.session.scalars(select(_givers(year, organisation_id))).all())


def _per_gift_numbers(donation_ids: list[int]) -> dict[int, str]:
    """The gifts' valid per-gift receipts: donation id -> receipt number."""
    rows = db.session.execute(
        select(Receipt.donation_id, Receipt.display_number).where(
            Receipt.donation_id.in_(donation_ids),
            Receipt.kind == Kind.SINGLE,
            Receipt.status == ReceiptStatus.ISSUED,
        )
    )
    return dict(rows.all())


def _share(gift: Donation, donor_id: int) -> tuple[int, int | None]:
    """What the gift counts for this donor: all of it, or a joint holder's half (and of
    what)."""
    if gift.joint_donor_id is None:
        return gift.net_cents, None
    first, second = content.joint_shares(gift.net_cents)
    return (first if gift.donor_id == donor_id else second), gift.net_cents


def _document(
    kind: Kind, org_id: int, donor, year: int, gifts: list[Donation], lines: list[dict], extra
) -> Receipt:
    settings = settings_for(org_id)
    first = gifts[0]
    snapshot = content.snapshot(first.organisation, settings, donor, lines)
    snapshot["annual"] = {
        "year": year,
        "deductible_cents": sum(line["amount_cents"] for line in lines if line["deductible"]),
    }
    snapshot.update(extra)
    issued_at = now_utc()
    number_year = issued_at.astimezone(ROME).year
    if kind == Kind.SUMMARY:
        number, display = None, f"Riepilogo {year}"
    else:
        number = numbering.next_number(org_id, number_year)
        display = numbering.display_number(settings.number_format, number_year, number)
    receipt = Receipt(
        organisation_id=org_id,
        year=number_year,
        number=number,
        display_number=display,
        kind=kind,
        donor_id=donor.id,
        status=ReceiptStatus.ISSUED,
        disputed=any(gift.dispute_status == "open" for gift in gifts),
        amount_cents=sum(line["amount_cents"] for line in lines),
        currency=first.currency,
        language="en" if (donor.language or "").startswith("en") else "it",
        snapshot=snapshot,
        missing_tax_code=content.missing_tax_code(donor),
        issued_at=issued_at,
        gifts=[
            ReceiptGift(donation_id=line["donation_id"], amount_cents=line["amount_cents"])
            for line in lines
        ],
    )
    db.session.add(receipt)
    db.session.flush()
    return receipt


def _issue_one(organisation_id: int, donor_id: int, year: int) -> list[Receipt]:
    """The donor's annual receipt; under "both", also (or instead) the summary of the
    gifts that have receipts of their own."""
    settings = settings_for(organisation_id)
    gifts = db.session.scalars(
        select(Donation)
        .where(
            Donation.organisation_id == organisation_id,
            or_(Donation.donor_id == donor_id, Donation.joint_donor_id == donor_id),
            *_year_gifts(year),
        )
        .order_by(Donation.received_on, Donation.id)
    ).all()
    donor = db.session.get(Donor, donor_id)
    numbers = _per_gift_numbers([g.id for g in gifts]) if settings.policy == Policy.BOTH else {}
    lines = {g.id: content.gift(g, *_share(g, donor_id)) for g in gifts}
    own = [g for g in gifts if g.id not in numbers]
    receipted = [g for g in gifts if g.id in numbers]
    issued = []
    if own:
        annual = _document(
            Kind.ANNUAL, organisation_id, donor, year, own, [lines[g.id] for g in own], {}
        )
        receipt_signals.receipt_issued.send(current_app._get_current_object(), receipt_id=annual.id)
        issued.append(annual)
    if receipted:
        summary_lines = [{**lines[g.id], "receipt_number": numbers[g.id]} for g in receipted]
        extra = {"summary": {"annual_number": issued[0].display_number if issued else ""}}
        issued.append(
            _document(Kind.SUMMARY, organisation_id, donor, year, receipted, summary_lines, extra)
        )
    return issued


def _lock(organisation_id: int) -> None:
    """Hold the organisation's settings row until commit: two runs at once (PostgreSQL)
    take turns per batch, and the second sees the receipts the first committed."""
    settings_for(organisation_id)
    db.session.execute(
        select(ReceiptSettings.organisation_id)
        .where(ReceiptSettings.organisation_id == organisation_id)
        .with_for_update()
    )


def _covered(organisation_id: int, donor_id: int, year: int) -> bool:
    return (
        db.session.scalar(
            _already_covered(organisation_id, year).where(Receipt.donor_id == donor_id).limit(1)
        )
        is not None
    )


def _batches(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def issue_batches(
    year: int, organisation_id: int | None = None, batch: int = BATCH
) -> Iterator[tuple[list[int], int, int]]:
    """Issue the missing annual receipts of `year`, one committed transaction per batch.

    Yields (receipt ids of the batch, donors skipped so far, donors to issue in all).
    """
    plan = []
    skipped = 0
    for org_id in _organisations(organisation_id):
        donors = pending_donors(year, org_id)
        skipped += _donors_with_gifts(year, org_id) - len(donors)
        plan.extend((org_id, donor_id) for donor_id in donors)
    db.session.commit()
    if not plan:
        yield [], skipped, 0
        return
    for chunk in _batches(plan, batch):
        ids, locked = [], set()
        for org_id, donor_id in chunk:
            if org_id not in locked:
                _lock(org_id)
                locked.add(org_id)
            if _covered(org_id, donor_id, year):  # a concurrent run issued it meanwhile
                skipped += 1
                continue
            ids.extend(receipt.id for receipt in _issue_one(org_id, donor_id, year))
        db.session.commit()
        yield ids, skipped, len(plan)


# Worker processes: each makes the app once, then renders and stores lists of receipts.
_worker: dict = {}


def _start_worker(config: dict, instance_path: str) -> None:
    from legami import create_app

    app = create_app(config, instance_path)
    context = app.app_context()
    context.push()
    _worker.update(app=app, context=context)


def render_batch(receipt_ids: list[int]) -> list[pdf.Written]:
    """In a worker: write the PDFs of these receipts to their files. The run records them:
    one process writing to the database, so workers never wait for (or starve on) its lock."""
    written = []
    for receipt_id in receipt_ids:
        try:
            written.append(pdf.write(db.session.get(Receipt, receipt_id)))
        except Exception:  # left to the scheduler's render_due
            log.exception("annual receipt %s: PDF not written", receipt_id)
    db.session.remove()
    return written


def _worker_config(app) -> dict:
    """The app's settings a worker needs to make the same app (the picklable ones)."""
    config = {}
    for key, value in app.config.items():
        if key.isupper():
            try:
                pickle.dumps(value)
            except Exception:  # an object a worker makes for itself
                continue
            config[key] = value
    return config


def pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes (spawned: no engine or lock inherited from this process)."""
    app = current_app._get_current_object()
    return ProcessPoolExecutor(
        max_workers=max(1, workers),
        mp_context=get_context("spawn"),
        initializer=_start_worker,
        initargs=(_worker_config(app), app.instance_path),
    )


def issue_annual(
    year: int,
    organisation_id: int | None = None,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> Outcome:
    """Issue the annual receipts of `year` (for one organisation, or every one whose policy
    is annual or both) and store their PDFs in `workers` processes.

    `progress(done, total)` is called as receipts are issued and rendered: `total` counts
    each receipt twice (issued, then rendered).
    """
    outcome = Outcome()
    futures: list[Future] = []
    total = 0
    with pool(workers) as executor:
        for ids, skipped, planned in issue_batches(year, organisation_id):
            outcome.issued += len(ids)
            # A donor may get two documents under "both" (receipt and summary).
            outcome.skipped, total = skipped, 2 * max(planned, outcome.issued)
            outcome.receipt_ids.extend(ids)
            if ids:
                futures.append(executor.submit(render_batch, ids))
            if progress:
                progress(outcome.issued, total)
        for future in futures:
            written = future.result()
            pdf.record(written)
            db.session.commit()
            outcome.rendered += len(written)
            if progress:
                progress(outcome.issued + outcome.rendered, total)
    return outcome
