"""Property: whatever sequence of gifts, expenses, approvals (by the recorder or another
person), reversals and approvals of reversals happens to the campaigns funding a pact and a
lab, each ledger (pact, lab, campaign) keeps raised - spent = available to the cent, where
spent is exactly the sum of the approved entries and never below zero, and no entry is ever
changed after it was written except for its approval."""

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from legami.extensions import db
from legami.validation import Invalid
from payments import expenses, ledger
from payments.ledger_models import Expense
from tests import factories
from tests.payments.matching import transfer

EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

GIFT = st.tuples(st.just("give"), st.integers(0, 1), st.integers(1, 50_000))
SPEND = st.tuples(st.just("spend"), st.integers(0, 2), st.integers(1, 40_000), st.integers(0, 1))
ON_ENTRY = st.tuples(
    st.sampled_from(["approve", "approve_self", "reverse"]), st.integers(0, 30), st.integers(0, 1)
)
STEPS = st.lists(st.one_of(GIFT, SPEND, ON_ENTRY, ON_ENTRY), min_size=1, max_size=25)


@EXAMPLES
@given(steps=STEPS)
def test_raised_minus_spent_is_available_to_the_cent(app, steps):
    with app.test_request_context():
        _run(steps)


def _run(steps) -> None:
    pact, lab = factories.pact(), factories.lab()
    organisation = factories.organisation()
    campaigns = [
        factories.campaign(pacts=[pact], organisation=organisation),
        factories.campaign(pacts=[pact], labs=[lab], organisation=organisation),
    ]
    users = [factories.user(roles=("treasurer",)), factories.user(roles=("admin",))]
    raised = [0, 0]
    written: dict[int, tuple] = {}
    for step in steps:
        kind = step[0]
        if kind == "give":
            transfer(campaigns[step[1]], step[2])
            raised[step[1]] += step[2]
        elif kind == "spend":
            which, cents, who = step[1] % 2, step[2], step[3]
            target = {"pact": pact} if step[1] != 2 else {"lab": lab}
            campaign = campaigns[1] if step[1] == 2 else campaigns[which]
            row = expenses.record(
                expenses.ExpenseRequest(
                    campaign=campaign,
                    spent_on=date.today(),
                    payee="Fornitore",
                    category="services",
                    description="Servizio",
                    amount_cents=cents,
                    **target,
                ),
                users[who],
            )
            db.session.commit()
            written[row.id] = (row.amount_cents, row.campaign_id, row.reverses_id)
        else:
            ids = sorted(written)
            if not ids:
                continue
            row = db.session.get(Expense, ids[step[1] % len(ids)])
            user = users[step[2]]
            try:
                if kind == "approve":
                    other = users[1 - users.index(db.session.get(type(user), row.recorded_by_id))]
                    expenses.approve(row, other)
                elif kind == "approve_self":
                    expenses.approve(row, db.session.get(type(user), row.recorded_by_id))
                else:
                    reversal = expenses.reverse(row, "Correzione", user)
                    written[reversal.id] = (
                        reversal.amount_cents,
                        reversal.campaign_id,
                        reversal.reverses_id,
                    )
                db.session.commit()
            except Invalid:
                db.session.rollback()
        db.session.expire_all()
        _check(pact, lab, campaigns, raised, written)


def _check(pact, lab, campaigns, raised, written) -> None:
    # Examples share one database: each looks at its own campaigns only.
    ids = [c.id for c in campaigns]
    rows = db.session.scalars(select(Expense).where(Expense.campaign_id.in_(ids))).all()
    assert {r.id: (r.amount_cents, r.campaign_id, r.reverses_id) for r in rows} == written
    approved_by_campaign = {c.id: 0 for c in campaigns}
    for r in rows:
        assert r.approved_by_id is None or r.approved_by_id != r.recorded_by_id
        if r.approved:
            approved_by_campaign[r.campaign_id] += r.amount_cents
    for campaign, cents in zip(campaigns, raised, strict=True):
        book = ledger.for_campaign(campaign)
        assert book.raised_cents == cents
        assert book.spent_cents == approved_by_campaign[campaign.id] >= 0
        assert book.available_cents == cents - book.spent_cents
        assert sum(book.by_category.values()) == book.spent_cents
    for book, funded in ((ledger.for_pact(pact), campaigns), (ledger.for_lab(lab), campaigns[1:])):
        assert book.raised_cents == sum(c.raised_cents for c in funded)
        assert book.spent_cents == sum(approved_by_campaign[c.id] for c in funded)
        assert book.available_cents == book.raised_cents - book.spent_cents
