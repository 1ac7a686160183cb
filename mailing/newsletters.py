"""Newsletter drafts: create and edit (sender, language versions, segments), checked before
anything is stored; one made from a campaign update; a test send to staff.

A newsletter can be edited until sending starts (draft, scheduled or late): once some
donors have it, the rest must get the same mail, and its recipients are frozen.
"""

import re
from collections import namedtuple
from dataclasses import dataclass, field, replace

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from campaigns.models import Update
from donors.models import Segment
from legami.extensions import db
from legami.models import Organisation, User
from legami.timeutil import now_utc
from legami.validation import Invalid
from mailing import compose, transport
from mailing.checks import address, one_line
from mailing.models import (
    LANGUAGES,
    MailSettings,
    Newsletter,
    NewsletterStatus,
    NewsletterVersion,
)

EDITABLE = (NewsletterStatus.DRAFT, NewsletterStatus.SCHEDULED, NewsletterStatus.LATE)
TEST_PREFIX = "[TEST] "

TestRecipient = namedtuple("TestRecipient", "id donor_id email first_name language")


@dataclass
class VersionData:
    subject: str = ""
    preheader: str = ""
    body: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.subject.strip() or self.preheader.strip() or self.body.strip())


@dataclass
class DraftData:
    organisation_id: int
    title: str
    from_name: str = ""
    from_email: str = ""
    reply_to: str = ""
    versions: dict[str, VersionData] = field(default_factory=dict)
    segment_ids: list[int] = field(default_factory=list)


def is_editable(newsletter: Newsletter) -> bool:
    return newsletter.status in EDITABLE


def sender_defaults(organisation: Organisation) -> dict[str, str]:
    """The organisation's newsletter sender (its settings, else its name and address)."""
    settings = db.session.get(MailSettings, organisation.id)
    return {
        "from_name": (settings and settings.from_name) or organisation.name,
        "from_email": (settings and settings.from_email) or organisation.email,
        "reply_to": (settings and settings.reply_to) or "",
    }


# A token inside a link's address: the name would go into the URL unencoded (and a tracked
# link is signed before any name is known).
_TOKEN_IN_LINK = re.compile(r"\]\([^)]*\{\{")


def _tokens(text: str, key: str, errors: dict) -> None:
    bad = compose.bad_tokens(text)
    if bad:
        errors[key] = _l(
            'Unknown token %(tokens)s: use {{ first_name }} or {{ first_name | "fallback" }}.',
            tokens=", ".join(bad),
        )
    elif _TOKEN_IN_LINK.search(text):
        errors[key] = _l("A token cannot go in a link's address, only in its text.")


def _check_version(language: str, data: VersionData, errors: dict) -> VersionData:
    prefix = f"{language}."
    checked = VersionData(
        subject=one_line(data.subject, prefix + "subject", 200, errors, required=True),
        preheader=one_line(data.preheader, prefix + "preheader", 200, errors),
        # A browser posts a textarea with CRLF line ends; blocks are matched line by line.
        body=(data.body or "").replace("\r\n", "\n").strip(),
    )
    for name in ("subject", "preheader", "body"):
        if prefix + name not in errors:
            _tokens(getattr(checked, name), prefix + name, errors)
    missing = compose.missing_blocks(checked.body)
    if missing and prefix + "body" not in errors:
        errors[prefix + "body"] = _l(
            "No such published campaign, pact or lab: %(blocks)s.", blocks=", ".join(missing)
        )
    return checked


def _check(data: DraftData) -> tuple[dict, dict[str, VersionData], list[Segment]]:
    errors: dict[str, str] = {}
    values = {
        "title": one_line(data.title, "title", 200, errors, required=True),
        "from_name": one_line(data.from_name, "from_name", 200, errors),
        "from_email": address(data.from_email, "from_email", errors),
        "reply_to": address(data.reply_to, "reply_to", errors),
    }
    if db.session.get(Organisation, data.organisation_id) is None:
        errors["organisation_id"] = _l("Choose an organisation.")
    versions = {}
    for language in LANGUAGES:
        given = data.versions.get(language) or VersionData()
        if language != "it" and given.is_empty:
            continue  # the English version is optional: English donors get the Italian one
        versions[language] = _check_version(language, given, errors)
    wanted = set(data.segment_ids)
    segments = (
        list(db.session.scalars(select(Segment).where(Segment.id.in_(wanted)))) if wanted else []
    )
    if len(segments) != len(wanted):
        errors["segments"] = _l("Some of these segments no longer exist.")
    if errors:
        raise Invalid(errors)
    return values, versions, segments


def _apply(newsletter: Newsletter, data: DraftData) -> None:
    values, versions, segments = _check(data)
    for name, value in values.items():
        setattr(newsletter, name, value)
    newsletter.organisation_id = data.organisation_id
    newsletter.segments = segments
    current = {version.language: version for version in newsletter.versions}
    for language in LANGUAGES:
        if language not in versions:
            if language in current:
                newsletter.versions.remove(current[language])
            continue
        row = current.get(language)
        if row is None:
            row = NewsletterVersion(language=language)
            newsletter.versions.append(row)
        row.subject = versions[language].subject
        row.preheader = versions[language].preheader
        row.body = versions[language].body


def create(
    data: DraftData,
    user: User,
    campaign_update_id: int | None = None,
    report_back_campaign_id: int | None = None,
) -> Newsletter:
    """A new draft; Invalid (nothing stored) on bad input. The tracking choice is the
    organisation's, copied now, and so is its sender where the data leave it empty."""
    settings = db.session.get(MailSettings, data.organisation_id)
    organisation = db.session.get(Organisation, data.organisation_id)
    if organisation is not None:
        defaults = sender_defaults(organisation)
        data = replace(data, **{name: getattr(data, name) or defaults[name] for name in defaults})
    newsletter = Newsletter(
        status=NewsletterStatus.DRAFT,
        created_by_id=user.id,
        track_engagement=bool(settings and settings.track_engagement),
        campaign_update_id=campaign_update_id,
        report_back_campaign_id=report_back_campaign_id,
    )
    _apply(newsletter, data)
    db.session.add(newsletter)
    db.session.commit()
    return newsletter


def update_draft(newsletter: Newsletter, data: DraftData) -> Newsletter:
    """Save changes while the newsletter is still editable; Invalid otherwise."""
    # Compare-and-set on the row: a sender claiming it now waits for this commit, and one
    # that claimed it first makes this refuse, so no edit lands half-way through a send.
    still_editable = db.session.execute(
        update(Newsletter)
        .where(Newsletter.id == newsletter.id, Newsletter.status.in_(EDITABLE))
        .values(updated_at=now_utc())
    ).rowcount
    if not still_editable:
        db.session.rollback()
        raise Invalid({"status": _l("Sending has started: this newsletter can no longer change.")})
    try:
        _apply(newsletter, data)
    except Invalid:
        db.session.rollback()
        raise
    db.session.commit()
    return newsletter


def draft_data(newsletter: Newsletter) -> DraftData:
    return DraftData(
        organisation_id=newsletter.organisation_id,
        title=newsletter.title,
        from_name=newsletter.from_name,
        from_email=newsletter.from_email,
        reply_to=newsletter.reply_to,
        versions={
            v.language: VersionData(v.subject, v.preheader, v.body) for v in newsletter.versions
        },
        segment_ids=[segment.id for segment in newsletter.segments],
    )


def from_campaign_update(campaign_update: Update, user: User) -> Newsletter:
    """One step from a campaign update to a draft: its title and text, and the campaign's card."""
    campaign = campaign_update.campaign
    body = f"{campaign_update.body.strip()}\n\n[[campaign:{campaign.slug}]]\n"
    data = DraftData(
        organisation_id=campaign.organisation_id,
        title=campaign_update.title[:200],
        **sender_defaults(campaign.organisation),
        versions={"it": VersionData(subject=campaign_update.title[:200], body=body)},
    )
    return create(data, user, campaign_update_id=campaign_update.id)


def send_test(newsletter: Newsletter, to_email: str, user: User, language: str = "it") -> str:
    """The newsletter as a donor would get it, to one staff address, marked [TEST] and
    personalised with the staff member's first name. Returns the Message-ID."""
    errors: dict[str, str] = {}
    to = address(to_email, "to_email", errors)
    if not to:
        errors["to_email"] = _l("Required.")
    if errors:
        raise Invalid(errors)
    prepared = compose.prepare(newsletter)
    first_name = (user.name or "").split(" ")[0]
    message = prepared.message(TestRecipient(0, None, to, first_name, language))
    subject = message["Subject"]
    del message["Subject"]
    message["Subject"] = TEST_PREFIX + str(subject)
    return transport.send(message)
