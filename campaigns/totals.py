"""Moving a campaign's raised and matched figures: atomic adds in SQL to its total slots."""

from functools import cache

from sqlalchemy import bindparam

from campaigns.models import TOTAL_SLOTS, CampaignTotal
from legami.extensions import db
from legami.sql import upsert_insert


@cache
def _add_statement(dialect: str):
    # Built once per engine: it runs for every gift, often many times a second.
    statement = upsert_insert(CampaignTotal).values(
        campaign_id=bindparam("b_campaign"),
        slot=bindparam("b_slot"),
        raised_cents=bindparam("b_cents"),
        gift_count=bindparam("b_gifts"),
    )
    return statement.on_conflict_do_update(
        index_elements=["campaign_id", "slot"],
        set_={
            "raised_cents": CampaignTotal.raised_cents + statement.excluded.raised_cents,
            "gift_count": CampaignTotal.gift_count + statement.excluded.gift_count,
        },
    )


def add(campaign_id: int, key: int, cents: int, gifts: int) -> None:
    """Add (cents, gifts) in the caller's transaction; `key` spreads writers over slots.

    `raised = raised + :cents` is computed by the database under the row lock, never read
    and written back from Python, so concurrent gifts always add up exactly.
    """
    if not cents and not gifts:
        return
    db.session.connection().execute(
        _add_statement(db.engine.dialect.name),
        {
            "b_campaign": campaign_id,
            "b_slot": key % TOTAL_SLOTS,
            "b_cents": cents,
            "b_gifts": gifts,
        },
    )


@cache
def _add_matched_statement(dialect: str):
    statement = upsert_insert(CampaignTotal).values(
        campaign_id=bindparam("b_campaign"),
        slot=bindparam("b_slot"),
        raised_cents=0,
        gift_count=0,
        matched_cents=bindparam("b_cents"),
    )
    return statement.on_conflict_do_update(
        index_elements=["campaign_id", "slot"],
        set_={"matched_cents": CampaignTotal.matched_cents + statement.excluded.matched_cents},
    )


def add_matched(campaign_id: int, key: int, cents: int) -> None:
    """Add to the campaign's matched figure (matchers' pledges) as `add` adds to raised:
    computed by the database under the slot's row lock, in the caller's transaction."""
    if not cents:
        return
    db.session.connection().execute(
        _add_matched_statement(db.engine.dialect.name),
        {"b_campaign": campaign_id, "b_slot": key % TOTAL_SLOTS, "b_cents": cents},
    )
