"""Helpers for the matching tests: challenges, gifts confirmed the treasurer's way, and the
books' invariant checked to the cent."""

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from campaigns.models import Campaign
from donors.identity import DonorDetails
from legami.extensions import db
from legami.timeutil import today_rome
from payments import matching_setup, treasury
from payments.matching_models import Challenge, MatchLine
from payments.models import Donation, Method, Status
from tests import factories


def challenge(campaign: Campaign, **overrides) -> Challenge:
    today = today_rome()
    data = {
        "campaign": campaign,
        "matcher": DonorDetails(
            email=f"matcher-{uuid.uuid4().hex[:8]}@example.org",
            kind="organisation",
            organisation_name="Fondazione Comunitaria",
        ),
        "ratio_percent": 100,
        "cap_cents": 100_000,
        "starts_on": max(campaign.starts_on, today - timedelta(days=3)),
        "ends_on": min(campaign.ends_on, today + timedelta(days=3)),
        **overrides,
    }
    row = matching_setup.create(matching_setup.ChallengeRequest(**data), None)
    db.session.commit()
    return row


def transfer(campaign: Campaign, cents: int, donor=None, day=None, **overrides) -> Donation:
    """A bank transfer promised, then confirmed by the treasurer (today unless `day`)."""
    gift = factories.donation(
        campaign=campaign,
        method=Method.BANK_TRANSFER,
        status=Status.PENDING,
        received_on=None,
        amount_cents=cents,
        **({"donor": donor} if donor is not None else {}),
        **overrides,
    )
    treasury.confirm_transfer(gift.id, day or today_rome(), None)
    db.session.commit()
    db.session.expire_all()
    return gift


def held(donation: Donation) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(MatchLine.held_cents), 0)).where(
            MatchLine.donation_id == donation.id
        )
    )


def check_books(campaign_id: int) -> None:
    """raised = donors' net gifts; matched = lines held by unsettled challenges; each pool =
    its lines, within its cap; a settled challenge was paid exactly what was asked."""
    db.session.expire_all()
    campaign = db.session.get(Campaign, campaign_id)
    net = db.session.scalar(
        select(func.coalesce(func.sum(Donation.amount_cents - Donation.refunded_cents), 0)).where(
            Donation.campaign_id == campaign_id,
            Donation.status.in_([Status.SUCCEEDED, Status.REFUNDED]),
        )
    )
    assert campaign.raised_cents == net
    open_held = 0
    for row in db.session.scalars(select(Challenge).where(Challenge.campaign_id == campaign_id)):
        lines = db.session.scalar(
            select(func.coalesce(func.sum(MatchLine.held_cents), 0)).where(
                MatchLine.challenge_id == row.id
            )
        )
        assert row.committed_cents == lines
        assert 0 <= row.committed_cents <= row.cap_cents
        if row.settled:
            assert row.settled_donation.amount_cents == row.asked_cents == row.committed_cents
        else:
            open_held += lines
    assert campaign.matched_cents == open_held
