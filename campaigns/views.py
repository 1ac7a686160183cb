"""The public site: home, campaign, pact and lab pages."""

from flask import Blueprint, abort, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from campaigns.models import Campaign, CampaignStatus, Lab, Pact
from campaigns.progress import progress
from legami.extensions import db
from legami.page_cache import cached_page

bp = Blueprint("campaigns", __name__)

PUBLIC_LISTED = (CampaignStatus.LIVE, CampaignStatus.ENDED)


@bp.get("/")
@cached_page
def home():
    live = db.session.scalars(
        select(Campaign)
        .where(Campaign.status == CampaignStatus.LIVE)
        .options(selectinload(Campaign.pacts), selectinload(Campaign.labs))
        .order_by(Campaign.ends_on)
    ).all()
    pacts = db.session.scalars(select(Pact).order_by(Pact.title)).all()
    labs = db.session.scalars(select(Lab).order_by(Lab.title)).all()
    return render_template(
        "campaigns/home.html",
        campaigns=[(c, progress(c)) for c in live],
        pacts=pacts,
        labs=labs,
    )


def load_campaign(slug: str) -> Campaign:
    campaign = db.session.scalar(
        select(Campaign)
        .where(Campaign.slug == slug)
        .options(
            selectinload(Campaign.pacts),
            selectinload(Campaign.labs),
            selectinload(Campaign.updates),
        )
    )
    if campaign is None:
        abort(404)
    return campaign


@bp.get("/campagne/<slug>")
@cached_page
def campaign(slug: str):
    found = load_campaign(slug)
    if not found.is_public:
        abort(404)
    return render_template("campaigns/campaign.html", campaign=found, progress=progress(found))


def _listed(campaigns: list[Campaign]) -> list[Campaign]:
    return [c for c in campaigns if c.status in PUBLIC_LISTED]


@bp.get("/patti/<slug>")
@cached_page
def pact(slug: str):
    found = db.first_or_404(select(Pact).where(Pact.slug == slug))
    return render_template("campaigns/pact.html", pact=found, campaigns=_listed(found.campaigns))


@bp.get("/laboratori/<slug>")
@cached_page
def lab(slug: str):
    found = db.first_or_404(select(Lab).where(Lab.slug == slug))
    return render_template("campaigns/lab.html", lab=found, campaigns=_listed(found.campaigns))
