"""Recording what pacts and labs give back, and reading it as a timeline and as totals.

Guarantees: an entry belongs to one pact or one lab, with a kind that fits it (hours, a
task or a skill for a pact; a meeting or an action for a lab), a positive quantity and a
public description; nothing in an entry identifies a pact's beneficiary. Functions never
commit.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from campaigns.models import Campaign, Lab, Pact, campaign_labs, campaign_pacts
from campaigns.outcome_models import LAB_KINDS, PACT_KINDS, Outcome, OutcomeKind
from legami.extensions import db
from legami.models import User
from legami.timeutil import today_rome
from legami.validation import Invalid

MAX_QUANTITY = 100_000
KIND_LABELS = {
    "hours": _l("hours of volunteering"),
    "task": _l("tasks carried out"),
    "skill": _l("skill sessions shared"),
    "meeting": _l("participants at a meeting"),
    "action": _l("actions started"),
}


@dataclass(frozen=True)
class OutcomeRequest:
    happened_on: date
    kind: str
    quantity: int
    description: str
    pact: Pact | None = None
    lab: Lab | None = None


def record(req: OutcomeRequest, user: User | None) -> Outcome:
    """A new timeline entry; Invalid (nothing stored) on bad input."""
    errors: dict[str, str] = {}
    allowed = PACT_KINDS if req.pact is not None else LAB_KINDS
    if (req.pact is None) == (req.lab is None):
        errors["programme"] = _l("Choose one pact or one lab.")
    elif req.kind not in allowed:
        errors["kind"] = _l("Choose a kind of entry.")
    if not isinstance(req.quantity, int) or not 0 < req.quantity <= MAX_QUANTITY:
        errors["quantity"] = _l("Give a whole number between 1 and %(max)s.", max=MAX_QUANTITY)
    if not req.description.strip():
        errors["description"] = _l("Required.")
    if req.happened_on > today_rome():
        errors["happened_on"] = _l("The date cannot be in the future.")
    if errors:
        raise Invalid(errors)
    outcome = Outcome(
        pact=req.pact,
        lab=req.lab,
        happened_on=req.happened_on,
        kind=OutcomeKind(req.kind),
        quantity=req.quantity,
        description=req.description.strip()[:500],
        recorded_by_id=user.id if user else None,
    )
    db.session.add(outcome)
    db.session.flush()
    return outcome


def timeline(pacts=(), labs=()) -> list[Outcome]:
    """The entries of these pacts and labs, newest first."""
    pact_ids = [p.id for p in pacts]
    lab_ids = [lab.id for lab in labs]
    if not pact_ids and not lab_ids:
        return []
    return list(
        db.session.scalars(
            select(Outcome)
            .where(Outcome.pact_id.in_(pact_ids) | Outcome.lab_id.in_(lab_ids))
            .order_by(Outcome.happened_on.desc(), Outcome.id.desc())
        )
    )


def totals(outcomes) -> dict[str, int]:
    """Quantity per kind, in the order of OutcomeKind, kinds with none left out."""
    sums: dict[str, int] = defaultdict(int)
    for outcome in outcomes:
        sums[outcome.kind] += outcome.quantity
    return {kind.value: sums[kind] for kind in OutcomeKind if sums[kind]}


def between(start: date, end: date, organisation_id: int | None = None) -> list[Outcome]:
    """Entries of [start, end]; with an organisation, only those of the pacts and labs its
    campaigns fund (pacts and labs belong to the network, campaigns to an organisation)."""
    stmt = select(Outcome).where(Outcome.happened_on >= start, Outcome.happened_on <= end)
    if organisation_id is not None:
        funded = select(Campaign.id).where(Campaign.organisation_id == organisation_id)
        pacts = select(campaign_pacts.c.pact_id).where(campaign_pacts.c.campaign_id.in_(funded))
        labs = select(campaign_labs.c.lab_id).where(campaign_labs.c.campaign_id.in_(funded))
        stmt = stmt.where(Outcome.pact_id.in_(pacts) | Outcome.lab_id.in_(labs))
    return list(db.session.scalars(stmt.order_by(Outcome.happened_on)))
