"""A report-back newsletter draft from a campaign's ledger and restitution timeline: what
was raised, what it paid for, what came back, in Italian and English.

It goes to the campaign's donors under the report-back rule (mailing.audience: the
organisation sends report-backs, the donor did not opt out and was not forgotten; no
newsletter consent needed), and its unsubscribe link opts out of report-backs. Staff review
and schedule it; nothing is sent from here.
"""

from flask_babel import force_locale
from flask_babel import gettext as _

from campaigns import restitution
from campaigns.models import Campaign
from legami.i18n import money
from legami.models import User
from mailing import newsletters
from mailing.newsletters import DraftData, VersionData
from payments import ledger
from payments.ledger_forms import CATEGORY_LABELS


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
    data = DraftData(
        organisation_id=campaign.organisation_id,
        title=versions["it"].subject,
        versions=versions,
    )
    return newsletters.create(data, user, report_back_campaign_id=campaign.id)
