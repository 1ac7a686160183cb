"""A newsletter's audience: segments' donors who consent, minus suppressed addresses."""

from sqlalchemy import select

from donors import consent
from donors.models import Segment
from legami.extensions import db
from mailing import audience
from mailing.models import Delivery, Newsletter
from tests import factories


def _newsletter(*segments) -> Newsletter:
    row = Newsletter(
        organisation=factories.organisation(), title="Notizie", segments=list(segments)
    )
    db.session.add(row)
    db.session.flush()
    return row


def test_audience_is_consenting_unsuppressed_segment_members_frozen_with_language(app):
    factories.donor(email="anna@example.org", newsletter_consent=True, language="en")
    factories.donor(email="bruno@example.org", newsletter_consent=False, town="Cremona")
    factories.donor(email="carla@example.org", newsletter_consent=True, town="Cremona")
    gone = factories.donor(email="dario@example.org", newsletter_consent=True, town="Cremona")
    consent.unsubscribe(gone, "newsletter", ip="")
    gone.newsletter_consent = True  # consent back on, yet the address stays suppressed
    db.session.commit()

    everyone = _newsletter()
    assert audience.count(everyone) == 2
    cremona = _newsletter(Segment(name="Cremona", definition={"towns": ["cremona"]}))
    assert audience.count(cremona) == 1

    assert audience.freeze(everyone) == 2
    rows = db.session.execute(
        select(Delivery.email, Delivery.language, Delivery.status)
        .where(Delivery.newsletter_id == everyone.id)
        .order_by(Delivery.email)
    ).all()
    assert rows == [("anna@example.org", "en", "pending"), ("carla@example.org", "it", "pending")]
