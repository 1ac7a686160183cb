"""Recording, approving and reversing expenses, and storing their documents.

Guarantees: an entry is never changed after it is written except for its approval, which a
user other than the recorder gives once; a correction is a reversing entry (the negative of
the original), and an approved entry's reversal is public only once approved in its turn.
Every step is written to the audit log in the caller's transaction. Functions never commit.
"""

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from campaigns.models import Campaign, Lab, Pact
from legami import audit
from legami.extensions import db
from legami.models import User
from legami.timeutil import now_utc, today_rome
from legami.validation import Invalid
from payments.ledger_models import Expense, ExpenseCategory

MAX_EXPENSE_CENTS = 100_000_000  # one million euros
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
# What an invoice or receipt may be: the file's first bytes decide, never its name.
DOCUMENT_KINDS = {b"%PDF-": "pdf", b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg"}
DOCUMENT_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg"}


@dataclass(frozen=True)
class ExpenseRequest:
    campaign: Campaign
    spent_on: date
    payee: str
    category: str
    description: str
    amount_cents: int
    pact: Pact | None = None
    lab: Lab | None = None
    document: str | None = None


def documents_folder() -> Path:
    """Outside the public uploads: an invoice may name a person; staff only read it."""
    folder = Path(current_app.instance_path) / "expense_documents"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_document(storage, field: str = "document") -> str:
    """Check an uploaded invoice or receipt (PDF, PNG or JPEG, at most 10 MB) and store it
    by content hash; returns the stored name. Raises Invalid."""
    data = storage.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise Invalid({field: _l("The document is larger than 10 MB.")})
    kind = next((ext for magic, ext in DOCUMENT_KINDS.items() if data.startswith(magic)), None)
    if kind is None:
        raise Invalid({field: _l("Upload the invoice or receipt as PDF, PNG or JPEG.")})
    name = f"{hashlib.sha256(data).hexdigest()[:32]}.{kind}"
    path = documents_folder() / name
    if not path.exists():
        path.write_bytes(data)
    return name


def validate(req: ExpenseRequest) -> None:
    errors: dict[str, str] = {}
    if not req.payee.strip():
        errors["payee"] = _l("Required.")
    if not req.description.strip():
        errors["description"] = _l("Required.")
    if req.category not in ExpenseCategory.__members__.values():
        errors["category"] = _l("Choose a category.")
    if not 0 < req.amount_cents <= MAX_EXPENSE_CENTS:
        errors["amount"] = _l("The amount must be more than zero.")
    if req.pact is not None and req.lab is not None:
        errors["programme"] = _l("An expense is for one pact or one lab, not both.")
    funded = req.pact.campaigns if req.pact else req.lab.campaigns if req.lab else None
    if funded is not None and req.campaign not in funded:
        errors["campaign_id"] = _l("This campaign does not fund the chosen pact or lab.")
    if req.spent_on > today_rome():
        errors["spent_on"] = _l("The date cannot be in the future.")
    if errors:
        raise Invalid(errors)


def record(req: ExpenseRequest, user: User) -> Expense:
    """A new expense, waiting for approval. Raises Invalid (nothing stored)."""
    validate(req)
    expense = Expense(
        campaign=req.campaign,
        pact=req.pact,
        lab=req.lab,
        spent_on=req.spent_on,
        payee=req.payee.strip(),
        category=req.category,
        description=req.description.strip(),
        amount_cents=req.amount_cents,
        currency=req.campaign.currency,
        document=req.document,
        recorded_by_id=user.id,
    )
    db.session.add(expense)
    db.session.flush()
    audit.record(
        user, "expense.recorded", f"expense:{expense.id}", amount_cents=expense.amount_cents
    )
    return expense


def lock(expense_id: int) -> Expense | None:
    """The expense, its row locked until the caller's transaction ends (PostgreSQL)."""
    return db.session.scalar(
        select(Expense)
        .where(Expense.id == expense_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def approve(expense: Expense, user: User) -> Expense:
    """Make the entry public. Raises Invalid when the approver recorded it, when it is
    already approved, when it was reversed before approval (withdrawn), or when it is a
    reversal of an entry not approved."""
    if expense.approved:
        raise Invalid({"expense": _l("This expense is already approved.")})
    if expense.recorded_by_id == user.id:
        raise Invalid({"expense": _l("Another person must approve what you recorded.")})
    if expense.reversed_by is not None:
        raise Invalid({"expense": _l("This expense was reversed: there is nothing to approve.")})
    if expense.reverses is not None and not expense.reverses.approved:
        raise Invalid({"expense": _l("Approve the original expense first.")})
    expense.approved_by_id = user.id
    expense.approved_at = now_utc()
    audit.record(user, "expense.approved", f"expense:{expense.id}")
    return expense


def reverse(expense: Expense, reason: str, user: User) -> Expense:
    """A reversing entry for `expense` (the same amount, negative), waiting for approval
    when the original was approved. Raises Invalid when it is itself a reversal or was
    reversed already, or without a reason."""
    if expense.reverses is not None:
        raise Invalid({"expense": _l("A reversing entry cannot be reversed.")})
    if expense.reversed_by is not None:
        raise Invalid({"expense": _l("This expense was reversed already.")})
    if not reason.strip():
        raise Invalid({"reason": _l("Say why the expense is reversed.")})
    reversal = Expense(
        campaign_id=expense.campaign_id,
        pact_id=expense.pact_id,
        lab_id=expense.lab_id,
        spent_on=today_rome(),
        payee=expense.payee,
        category=expense.category,
        description=expense.description,
        amount_cents=-expense.amount_cents,
        currency=expense.currency,
        reverses=expense,
        reason=reason.strip()[:500],
        recorded_by_id=user.id,
    )
    db.session.add(reversal)
    db.session.flush()
    audit.record(
        user,
        "expense.reversed",
        f"expense:{expense.id}",
        reversal_id=reversal.id,
        amount_cents=expense.amount_cents,
        reason=reversal.reason,
    )
    return reversal
