"""Moving a campaign's raised figure: an atomic add in SQL to one of its total slots."""

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from campaigns.models import TOTAL_SLOTS, CampaignTotal
from legami.extensions import db


def add(campaign_id: int, key: int, cents: int, gifts: int) -> None:
    """Add (cents, gifts) in the caller's transaction; `key` spreads writers over slots.

    `raised = raised + :cents` is computed by the database under the row lock, never read
    and written back from Python, so concurrent gifts always add up exactly.
    """
    if not cents and not gifts:
        return
    insert = sqlite_insert if db.engine.dialect.name == "sqlite" else postgresql_insert
    statement = insert(CampaignTotal).values(
        campaign_id=campaign_id, slot=key % TOTAL_SLOTS, raised_cents=cents, gift_count=gifts
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["campaign_id", "slot"],
            set_={
                "raised_cents": CampaignTotal.raised_cents + statement.excluded.raised_cents,
                "gift_count": CampaignTotal.gift_count + statement.excluded.gift_count,
            },
        )
    )
