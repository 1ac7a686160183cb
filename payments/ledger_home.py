"""The staff home's ledger panel: expenses waiting for an admin's approval (a to-do), and
each organisation's progress this year against its fundraising plan."""

from sqlalchemy import func, select

from legami.extensions import db
from legami.models import Organisation
from legami.timeutil import today_rome
from payments import plan
from payments.ledger_models import Expense, PlanTarget


def panel(user) -> dict:
    waiting = db.session.execute(
        select(func.count(), func.min(Expense.recorded_at)).where(
            Expense.approved_at.is_(None), Expense.reverses_id.is_(None)
        )
    ).one()
    year = today_rome().year
    planned = db.session.scalars(
        select(Organisation)
        .where(
            Organisation.id.in_(select(PlanTarget.organisation_id).where(PlanTarget.year == year))
        )
        .order_by(Organisation.name)
    ).all()
    return {
        "waiting": waiting[0],
        "oldest": waiting[1],
        "year": year,
        "progress": [(o, plan.year_progress(o, year)) for o in planned],
    }
