"""A report-back newsletter draft from a campaign's ledger and restitution timeline: what
was raised, what it paid for, what came back, in Italian and English, addressed to the
campaign's donors (a segment "gave to this campaign", made once and reused).

The draft goes through the newsletter's usual audience checks when sent (consent, erasure,
suppression). Staff review and schedule it; nothing is sent from here.
"""

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from campaigns import restitution
from campaigns.models import Campaign
from donors.models import Segment
from legami.extensions import db
from legami.i18n import money
from legami.models import User
from mailing import newsletters
from mailing.newsletters import DraftData, VersionData
from payments import ledger
from payments.ledger_forms import CATEGORY_LABELS


def _segment(campaign: Campaign, user: User) -> Segment:
    name = f"report-back: {campaign.slug}"[:120]
    found = db.session.scalar(select(Segment).where(Segment.name == name))
    if found is None:
        found = Segment(
            name=name,
            description=f"Donors of {campaign.title}"[:500],
            definition={"campaigns": [campaign.id]},
            created_by_id=user.id,
        )
        db.session.add(found)
        db.session.flush()
    return found


def body(campaign: Campaign) -> tuple[str, str]:
    """(subject, body) in the current language, Markdown with the campaign's card."""
    book = ledger.for_campaign(campaign)
    timeline = restitution.timeline(campaign.pacts, campaign.labs)
    title = campaign.local("title")
    lines = [
        _(
            "Thanks to you, %(campaign)s raised %(raised)s from %(gifts)s gifts.",
            campaign=title,
            raised=money(book.raised_cents),
            gifts=book.gift_count,
        ),
    ]
    if book.matched_cents:
        lines.append(_("Matchers added %(matched)s.", matched=money(book.matched_cents)))
    lines += ["", "## " + _("What it paid for"), ""]
    if book.by_category:
        lines += [
            f"- {CATEGORY_LABELS.get(key, key)}: {money(cents)}"
            for key, cents in book.by_category.items()
        ]
    else:
        lines.append(_("Nothing has been spent yet."))
    lines += [
        "",
        _(
            "Spent %(spent)s; still available %(available)s.",
            spent=money(book.spent_cents),
            available=money(book.available_cents),
        ),
        "",
        "## " + _("What came back to the community"),
        "",
    ]
    totals = restitution.totals(timeline)
    if totals:
        lines += [f"- {qty} {restitution.KIND_LABELS[kind]}" for kind, qty in totals.items()]
    else:
        lines.append(_("Nothing recorded yet."))
    lines += ["", f"[[campaign:{campaign.slug}]]", ""]
    return _("What your gifts to %(campaign)s became", campaign=title), "\n".join(lines)


def draft(campaign: Campaign, user: User):
    """A newsletter draft reporting back on the campaign, in Italian and English."""
    versions = {}
    for language in ("it", "en"):
        with force_locale(language):
            subject, text = body(campaign)
        versions[language] = VersionData(subject=subject[:200], body=text)
    segment = _segment(campaign, user)
    data = DraftData(
        organisation_id=campaign.organisation_id,
        title=versions["it"].subject,
        versions=versions,
        segment_ids=[segment.id],
    )
    return newsletters.create(data, user)
