"""The composer's forms; the checks that matter are the service's (mailing.newsletters)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField

from donors.models import Segment
from legami.extensions import db
from legami.forms import MultiCheckboxField, choices
from legami.models import Organisation
from mailing.models import LANGUAGES
from mailing.newsletters import DraftData, VersionData

BODY_HELP = _l(
    'Markdown. {{ first_name }} is the donor\'s first name; {{ first_name | "amica, amico" }} '
    "uses the quoted words when it is unknown. A line [[campaign:slug]], [[pact:slug]] or "
    "[[lab:slug]] shows that campaign (with its progress and a donate button), pact or lab."
)

# The service's error keys -> the form fields showing them.
ERROR_FIELDS = {
    f"{language}.{name}": f"{language}_{name}"
    for language in LANGUAGES
    for name in ("subject", "preheader", "body")
}


class NewsletterForm(FlaskForm):
    title = StringField(_l("Name (for staff)"))
    organisation_id = SelectField(_l("Organisation"), coerce=int)
    from_name = StringField(_l("Sender name"))
    from_email = EmailField(_l("Sender address"))
    reply_to = EmailField(_l("Reply-to address"))
    segments = MultiCheckboxField(
        _l("Segments (none: every subscriber)"),
        coerce=int,
        description=_l("Only donors who consent to the newsletter and are not suppressed."),
    )
    it_subject = StringField(_l("Subject"))
    it_preheader = StringField(_l("Preheader (the preview line after the subject)"))
    it_body = TextAreaField(_l("Text"), description=BODY_HELP, render_kw={"rows": 16})
    en_subject = StringField(_l("Subject"))
    en_preheader = StringField(_l("Preheader (the preview line after the subject)"))
    en_body = TextAreaField(_l("Text"), description=BODY_HELP, render_kw={"rows": 16})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation_id.choices = choices(
            (o.id, o.name)
            for o in db.session.scalars(select(Organisation).order_by(Organisation.name))
        )
        self.segments.choices = choices(
            (s.id, s.name) for s in db.session.scalars(select(Segment).order_by(Segment.name))
        )

    def draft_data(self) -> DraftData:
        return DraftData(
            organisation_id=self.organisation_id.data,
            title=self.title.data or "",
            from_name=self.from_name.data or "",
            from_email=self.from_email.data or "",
            reply_to=self.reply_to.data or "",
            versions={
                language: VersionData(
                    subject=getattr(self, f"{language}_subject").data or "",
                    preheader=getattr(self, f"{language}_preheader").data or "",
                    body=getattr(self, f"{language}_body").data or "",
                )
                for language in LANGUAGES
            },
            segment_ids=self.segments.data or [],
        )

    @staticmethod
    def initial(data: DraftData) -> dict:
        values = {
            "title": data.title,
            "organisation_id": data.organisation_id,
            "from_name": data.from_name,
            "from_email": data.from_email,
            "reply_to": data.reply_to,
            "segments": data.segment_ids,
        }
        for language, version in data.versions.items():
            values[f"{language}_subject"] = version.subject
            values[f"{language}_preheader"] = version.preheader
            values[f"{language}_body"] = version.body
        return values


class TestSendForm(FlaskForm):
    to_email = EmailField(_l("Send a test to"))
    language = SelectField(_l("Version"), choices=choices((c, c.upper()) for c in LANGUAGES))


class MailSettingsForm(FlaskForm):
    """An organisation's newsletter settings (mailing.mail_settings.update checks them)."""

    from_name = StringField(_l("Sender name"), description=_l("Empty: the organisation's name."))
    from_email = EmailField(
        _l("Sender address"),
        description=_l("Empty: the organisation's address, else the site's sender address."),
    )
    reply_to = EmailField(
        _l("Reply-to address"), description=_l("Empty: replies go to the sender address.")
    )
    track_engagement = BooleanField(
        _l("Record opens and clicks"),
        description=_l(
            "Records when a donor opens the mail (an invisible image) and clicks a link (links"
            " pass through Legami); off by default, for the donors' privacy."
        ),
        render_kw={"aria-describedby": "track_engagement-help"},
    )
