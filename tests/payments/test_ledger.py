"""The ledger: expenses approved by a second person before they are public, corrected only
by reversing entries (audited), raised - spent = available to the cent, and the public
"Dove vanno i fondi" pages with their chart, data table and overspending note."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from legami.extensions import db
from legami.models import AuditEntry
from legami.validation import Invalid
from payments import expenses, ledger
from payments.ledger_models import Expense
from tests import factories
from tests.payments.ledger_helpers import approved, expense, funded_pact, outcome


@pytest.fixture(autouse=True)
def messages_in_english(app):
    """Services' messages are lazy: read them as an English request would."""
    with app.test_request_context("/?lang=en"):
        yield


def test_an_expense_is_public_only_once_another_person_approved_it(client, english):
    pact, campaign = funded_pact(50_000)
    treasurer = factories.user(roles=("treasurer",))
    admin = factories.user(roles=("admin",))
    row = expense(campaign, 12_345, treasurer, pact=pact)
    assert ledger.for_pact(pact).spent_cents == 0
    page = client.get(f"/fondi/patti/{pact.slug}?lang=en").text
    assert "Vernice e pennelli" not in page
    assert client.get(f"/fondi/patti/{pact.slug}.json").get_json()["expenses"] == []

    with pytest.raises(Invalid, match="Another person"):
        expenses.approve(row, treasurer)
    expenses.approve(row, admin)
    db.session.commit()
    book = ledger.for_pact(pact)
    assert (book.raised_cents, book.spent_cents, book.available_cents) == (50_000, 12_345, 37_655)
    page = client.get(f"/fondi/patti/{pact.slug}?lang=en").text
    assert "Vernice e pennelli" in page and "€123.45" in page and "€376.55" in page
    with pytest.raises(Invalid, match="already approved"):
        expenses.approve(row, admin)


def test_the_schema_itself_refuses_self_approval_and_a_positive_reversal(app):
    _pact, campaign = funded_pact()
    treasurer = factories.user(roles=("treasurer",))
    row = expense(campaign, 1_000, treasurer)
    row.approved_by_id, row.approved_at = treasurer.id, row.recorded_at
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(
        Expense(
            campaign_id=campaign.id,
            spent_on=date.today(),
            payee="x",
            category="other",
            description="x",
            amount_cents=500,
            reverses_id=row.id,
            recorded_by_id=treasurer.id,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_correction_is_a_reversing_entry_approved_in_its_turn_and_audited(app):
    pact, campaign = funded_pact(30_000)
    treasurer = factories.user(roles=("treasurer",))
    admin = factories.user(roles=("admin",))
    wrong = approved(campaign, 9_000, treasurer, admin, pact=pact)
    reversal = expenses.reverse(wrong, "Importo sbagliato", treasurer)
    db.session.commit()
    assert reversal.amount_cents == -9_000 and reversal.reverses_id == wrong.id
    assert wrong.amount_cents == 9_000 and wrong.approved  # the original is untouched
    assert ledger.for_pact(pact).spent_cents == 9_000  # the reversal waits for approval
    expenses.approve(reversal, admin)
    approved(campaign, 900, treasurer, admin, pact=pact)
    db.session.commit()
    book = ledger.for_pact(pact)
    assert (book.spent_cents, book.available_cents) == (900, 29_100)
    with pytest.raises(Invalid, match="reversed already"):
        expenses.reverse(wrong, "again", treasurer)
    with pytest.raises(Invalid, match="cannot be reversed"):
        expenses.reverse(reversal, "again", treasurer)
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.target == f"expense:{wrong.id}")
    ).all()
    assert sorted(actions) == ["expense.approved", "expense.recorded", "expense.reversed"]


def test_an_expense_reversed_before_approval_can_never_be_published(app):
    _pact, campaign = funded_pact(10_000)
    treasurer = factories.user(roles=("treasurer",))
    admin = factories.user(roles=("admin",))
    row = expense(campaign, 4_000, treasurer)
    reversal = expenses.reverse(row, "Registrata per errore", treasurer)
    db.session.commit()
    with pytest.raises(Invalid, match="was reversed"):
        expenses.approve(row, admin)
    with pytest.raises(Invalid, match="original expense first"):
        expenses.approve(reversal, admin)
    assert ledger.for_campaign(campaign).spent_cents == 0


def test_bad_expenses_are_refused_with_reasons(app):
    pact, _campaign = funded_pact()
    other = factories.campaign()
    treasurer = factories.user(roles=("treasurer",))
    with pytest.raises(Invalid) as refused:
        expense(
            other,
            1_000,
            treasurer,
            pact=pact,
            payee=" ",
            category="yachts",
            spent_on=date.today() + timedelta(days=3),
        )
    assert set(refused.value.errors) == {"payee", "category", "campaign_id", "spent_on"}
    db.session.rollback()
    assert db.session.scalar(select(Expense.id)) is None


def test_spending_more_than_raised_shows_a_note(client, english):
    _pact, campaign = funded_pact(5_000)
    treasurer = factories.user(roles=("treasurer",))
    admin = factories.user(roles=("admin",))
    approved(campaign, 8_000, treasurer, admin)
    book = ledger.for_campaign(campaign)
    assert book.overspent and book.available_cents == -3_000
    page = client.get(f"/fondi/campagne/{campaign.slug}?lang=en").text
    assert "More has been spent than raised: €30 was advanced" in page
    assert (
        "More has been spent than raised so far."
        in client.get(f"/campagne/{campaign.slug}?lang=en").text
    )
    assert client.get(f"/fondi/campagne/{campaign.slug}.json").get_json()["overspent"] is True


def test_public_pages_show_chart_table_matched_apart_and_the_timeline(client, english):
    pact, campaign = funded_pact(20_000)
    lab = factories.lab()
    campaign.labs.append(lab)
    db.session.commit()
    treasurer = factories.user(roles=("treasurer",))
    admin = factories.user(roles=("admin",))
    approved(campaign, 2_500, treasurer, admin, pact=pact, category="food")
    outcome(pact=pact, kind="hours", quantity=6, description="Sei ore al doposcuola")
    outcome(lab=lab, kind="meeting", quantity=14, description="Assemblea di quartiere")
    page = client.get(f"/fondi/patti/{pact.slug}?lang=en").text
    assert "<svg" in page and 'role="img"' in page and "<script" not in page.split("<main")[-1]
    assert "The chart's figures" in page and "Food" in page
    assert "6 hours of volunteering" in page and "Sei ore al doposcuola" in page
    assert "Assemblea di quartiere" not in page  # the lab's entry is on the lab's page
    lab_page = client.get(f"/fondi/laboratori/{lab.slug}?lang=en").text
    assert "14 participants at a meeting" in lab_page
    campaign_page = client.get(f"/fondi/campagne/{campaign.slug}?lang=en").text
    assert "Sei ore al doposcuola" in campaign_page and "Assemblea di quartiere" in campaign_page
    assert client.get("/fondi/patti/nessuno").status_code == 404
    assert client.get("/fondi/altro/x").status_code == 404
    draft = factories.campaign(status="draft")
    assert client.get(f"/fondi/campagne/{draft.slug}").status_code == 404


def test_the_network_page_totals_per_organisation_strategy_and_year(client, english):
    pact, campaign = funded_pact(40_000)
    treasurer = factories.user(roles=("treasurer",))
    admin = factories.user(roles=("admin",))
    approved(campaign, 15_000, treasurer, admin)
    rows = ledger.network()
    assert [(r.strategy, r.raised_cents, r.spent_cents, r.available_cents) for r in rows] == [
        ("pacts", 40_000, 15_000, 25_000)
    ]
    page = client.get("/fondi/?lang=en").text
    assert campaign.organisation.name in page and "Generative pacts" in page
    assert "<svg" in page and "€250" in page
    assert f'href="/fondi/patti/{pact.slug}"' in page
    assert f'href="/fondi/campagne/{campaign.slug}"' in page
    campaign_page = client.get(f"/fondi/campagne/{campaign.slug}").text
    assert f'href="/fondi/patti/{pact.slug}"' in campaign_page
