"""Building ledgers for the tests: a pact funded by a campaign with real gifts (bank
transfers confirmed by the treasurer), expenses recorded and approved by two users."""

from datetime import date

from campaigns import restitution
from legami.extensions import db
from payments import expenses
from tests import factories
from tests.payments.matching import transfer


def funded_pact(raised_cents: int = 0, **campaign):
    pact = factories.pact()
    funding = factories.campaign(pacts=[pact], **campaign)
    if raised_cents:
        transfer(funding, raised_cents)
    return pact, funding


def expense(campaign, cents, user, pact=None, lab=None, **overrides):
    data = {
        "campaign": campaign,
        "spent_on": date.today(),
        "payee": "Ferramenta Bianchi srl",
        "category": "materials",
        "description": "Vernice e pennelli per la panchina",
        "amount_cents": cents,
        "pact": pact,
        "lab": lab,
        **overrides,
    }
    row = expenses.record(expenses.ExpenseRequest(**data), user)
    db.session.commit()
    return row


def approved(campaign, cents, recorder, approver, **overrides):
    row = expense(campaign, cents, recorder, **overrides)
    expenses.approve(row, approver)
    db.session.commit()
    return row


def outcome(pact=None, lab=None, kind="hours", quantity=4, description="Pulizia del parco"):
    row = restitution.record(
        restitution.OutcomeRequest(
            happened_on=date.today(),
            kind=kind,
            quantity=quantity,
            description=description,
            pact=pact,
            lab=lab,
        ),
        None,
    )
    db.session.commit()
    return row
