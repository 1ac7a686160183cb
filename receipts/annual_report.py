"""The annual public report of an organisation (the fundraising part of its bilancio
sociale), as PDF: the year's figures against the plan, a chart, and the pacts and labs its
campaigns supported with what came back. Italian by default, English on request; public by
design, so it names no donor, payee or pact beneficiary."""

from datetime import date

from flask import render_template
from flask_babel import force_locale, get_locale
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from campaigns import restitution
from campaigns.models import Campaign, CampaignStatus
from legami.extensions import db
from legami.models import Organisation
from payments import ledger, ledger_chart, plan
from payments.ledger_forms import CATEGORY_LABELS, CHANNEL_LABELS, STRATEGY_LABELS
from receipts import report_pdf

LANGUAGES = ("it", "en")


def pdf(organisation: Organisation, year: int, language: str = "it") -> bytes:
    if language not in LANGUAGES:
        raise ValueError(language)
    with force_locale(language):
        return report_pdf.render(html(organisation, year))


def html(organisation: Organisation, year: int) -> str:
    figures = plan.period(date(year, 1, 1), date(year, 12, 31), organisation)
    campaigns = db.session.scalars(
        select(Campaign)
        .where(
            Campaign.organisation_id == organisation.id,
            Campaign.status != CampaignStatus.DRAFT,
            Campaign.starts_on <= date(year, 12, 31),
            Campaign.ends_on >= date(year, 1, 1),
        )
        .options(selectinload(Campaign.pacts), selectinload(Campaign.labs))
        .order_by(Campaign.starts_on)
    ).all()
    pacts = sorted({p for c in campaigns for p in c.pacts}, key=lambda p: p.title)
    labs = sorted({lab for c in campaigns for lab in c.labs}, key=lambda lab: lab.title)
    outcomes = [o for o in restitution.timeline(pacts, labs) if o.happened_on.year == year]
    chart = ledger_chart.bars(
        [
            (key, STRATEGY_LABELS.get(key, key), cents)
            for key, cents in sorted(figures.by_strategy.items())
        ]
        + [
            (f"category-{key}", CATEGORY_LABELS.get(key, key), -cents)
            for key, cents in sorted(figures.spent_by_category.items())
        ]
    )
    return render_template(
        "receipts/reports/annual_pdf.html",
        language=str(get_locale()),
        organisation=organisation,
        year=year,
        figures=figures,
        campaigns=[(c, ledger.for_campaign(c)) for c in campaigns],
        pacts=pacts,
        labs=labs,
        outcome_totals=restitution.totals(outcomes),
        kind_labels=restitution.KIND_LABELS,
        chart=chart,
        chart_height=ledger_chart.height(chart),
        strategies=STRATEGY_LABELS,
        channels=CHANNEL_LABELS,
        categories=CATEGORY_LABELS,
    )
