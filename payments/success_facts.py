"""Whether a receiver of `donation_succeeded` has anything to do, read in the success's own
UPDATE ... RETURNING (payments.transitions) rather than by a query of its own.

A receiver's module registers a fact: a name and a boolean SQL expression about the
donations row being changed (EXISTS on indexed columns), true when the receiver may have
work for that gift (the campaign has a matching challenge, the gift came through a
fundraising page, the giver's typed details wait). The success statement returns every
registered fact; `may_have_work` answers from them within that same transaction. Anywhere
else (another transaction, a success made another way, a fact not registered yet) it
answers True, and the receiver asks the database as it would without this module: a fact
only ever saves a query, it never decides on its own that work is skipped wrongly.
"""

from sqlalchemy import ColumnElement

from legami.extensions import db

_FACTS: dict[str, ColumnElement[bool]] = {}
_KEY = "payments.success_facts"


def register(name: str, expression: ColumnElement[bool]) -> None:
    """`expression` may refer to the donations row (payments.models.Donation's columns)."""
    _FACTS[name] = expression


def names() -> tuple[str, ...]:
    return tuple(sorted(_FACTS))


def columns(fact_names: tuple[str, ...]) -> list[ColumnElement[bool]]:
    """The facts as RETURNING columns, labelled `fact_<name>`."""
    return [_FACTS[name].label(f"fact_{name}") for name in fact_names]


def remember(donation_id: int, row, fact_names: tuple[str, ...]) -> None:
    """Keep what the success statement's `row` says, for this transaction only."""
    transaction = db.session().get_transaction()
    kept = db.session.info.get(_KEY)
    if kept is None or kept[0] is not transaction:
        kept = db.session.info[_KEY] = (transaction, {})
    kept[1][donation_id] = {name: bool(row._mapping[f"fact_{name}"]) for name in fact_names}


def may_have_work(donation_id: int, name: str) -> bool:
    """False only when this transaction's success statement said so for this gift."""
    kept = db.session.info.get(_KEY)
    if kept is None or kept[0] is not db.session().get_transaction():
        return True
    return kept[1].get(donation_id, {}).get(name, True)
