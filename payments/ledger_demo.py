"""Demo ledger: expenses of the demo campaigns recorded by a demo treasurer and approved by
the demo admin (one left waiting, one corrected by a reversing entry), and what the pacts
and labs gave back. Deterministic and idempotent."""

from datetime import timedelta

from sqlalchemy import select

from campaigns import restitution
from campaigns.models import Campaign, Lab, Pact
from legami import accounts
from legami.extensions import db
from legami.models import Role
from legami.timeutil import today_rome
from payments import expenses
from payments.ledger_models import Expense

TREASURER = "tesoreria@legami.example"
# campaign slug -> (days ago, pact or lab slug, category, description, cents, approved)
EXPENSES = {
    "casa-e-orto-cambonino": [
        (40, "pact:un-tetto-e-un-orto", "places", "Due mesi di affitto della casa", 90_000, True),
        (25, "lab:lab-cambonino", "materials", "Attrezzi e sementi per l'orto", 18_450, True),
        (3, "lab:lab-cambonino", "food", "Merenda per l'assemblea di quartiere", 6_200, False),
    ],
    "al-lavoro-a-crema": [
        (30, "pact:patente-per-lavorare", "services", "Corso di guida e esame", 48_000, True),
    ],
    "inverno-al-caldo": [
        (12, "pact:bollette-e-riparazioni", "services", "Riparazione della caldaia", 32_500, True),
    ],
}
OUTCOMES = [
    ("pact:un-tetto-e-un-orto", 35, "hours", 16, "Cura del giardino condiviso del condominio"),
    ("pact:un-tetto-e-un-orto", 10, "skill", 3, "Lezioni di orto per i bambini del quartiere"),
    ("pact:patente-per-lavorare", 20, "task", 6, "Accompagnamenti in auto alle visite mediche"),
    ("pact:bollette-e-riparazioni", 8, "hours", 10, "Piccole riparazioni per i vicini anziani"),
    ("lab:lab-cambonino", 30, "meeting", 24, "Assemblea di quartiere sugli spazi verdi"),
    ("lab:lab-cambonino", 15, "action", 1, "Avviato l'orto condiviso di via Cambonino"),
    ("lab:lab-crema-lavoro", 18, "meeting", 12, "Incontro su turni e conciliazione"),
]


def _programme(ref: str) -> dict:
    kind, slug = ref.split(":")
    model = Pact if kind == "pact" else Lab
    return {kind: db.session.scalar(select(model).where(model.slug == slug))}


def load() -> None:
    admin = accounts.find_user("admin@legami.example")
    if admin is None or db.session.scalar(select(Expense.id).limit(1)):
        return
    treasurer = accounts.find_user(TREASURER) or accounts.create_user(
        TREASURER, [Role.TREASURER], name="Tesoreria"
    )
    today = today_rome()
    for slug, rows in EXPENSES.items():
        campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
        if campaign is None:
            continue
        for days, ref, category, description, cents, approve in rows:
            expense = expenses.record(
                expenses.ExpenseRequest(
                    campaign=campaign,
                    spent_on=today - timedelta(days=days),
                    payee="Fornitore locale",
                    category=category,
                    description=description,
                    amount_cents=cents,
                    **_programme(ref),
                ),
                treasurer,
            )
            if approve:
                expenses.approve(expense, admin)
    first = db.session.scalar(select(Expense).order_by(Expense.id).limit(1))
    if first is not None:
        reversal = expenses.reverse(first, "Importo registrato due volte", treasurer)
        expenses.approve(reversal, admin)
        again = expenses.record(
            expenses.ExpenseRequest(
                campaign=first.campaign,
                spent_on=first.spent_on,
                payee=first.payee,
                category=first.category,
                description="Un mese di affitto della casa",
                amount_cents=45_000,
                pact=first.pact,
            ),
            treasurer,
        )
        expenses.approve(again, admin)
    for ref, days, kind, quantity, description in OUTCOMES:
        programme = _programme(ref)
        if None in programme.values():
            continue
        restitution.record(
            restitution.OutcomeRequest(
                happened_on=today - timedelta(days=days),
                kind=kind,
                quantity=quantity,
                description=description,
                **programme,
            ),
            admin,
        )
