"""Staff forms for campaigns, pacts, labs and updates."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from campaigns.labels import PLACE_KIND, PROGRAMME_STATUS
from campaigns.models import Lab, Pact
from legami.extensions import db
from legami.forms import AmountField, MultiCheckboxField, choices
from legami.models import Organisation
from legami.money import MAX_GOAL_CENTS

COVER_HELP = _l("JPEG, PNG or WebP, at most 5 MB.")
SLUG_HELP = _l("Leave empty to make it from the title.")
ENGLISH_HELP = _l("Optional: without it, English visitors read the Italian text, marked as such.")


def _english_title():
    return StringField(
        _l("Title in English"), validators=[Optional(), Length(max=200)], description=ENGLISH_HELP
    )


def _english_summary():
    return TextAreaField(_l("Summary in English"), validators=[Optional(), Length(max=500)])


def _english_story():
    return TextAreaField(_l("Story in English (Markdown)"), validators=[Optional()])


class CampaignForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    slug = StringField(
        _l("Address (slug)"), validators=[Optional(), Length(max=120)], description=SLUG_HELP
    )
    organisation_id = SelectField(_l("Organisation"), coerce=int)
    summary = TextAreaField(_l("Summary"), validators=[DataRequired(), Length(max=500)])
    story = TextAreaField(_l("Story (Markdown)"), validators=[Optional()])
    title_en = _english_title()
    summary_en = _english_summary()
    story_en = _english_story()
    cover = FileField(_l("Cover image"), description=COVER_HELP)
    goal = AmountField(_l("Goal (€)"), validators=[DataRequired()], maximum=MAX_GOAL_CENTS)
    starts_on = DateField(_l("Start date"), validators=[DataRequired()])
    ends_on = DateField(_l("End date"), validators=[DataRequired()])
    pact_ids = MultiCheckboxField(_l("Pacts it funds"), coerce=int)
    lab_ids = MultiCheckboxField(_l("Labs it funds"), coerce=int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation_id.choices = choices(
            (o.id, o.name)
            for o in db.session.scalars(select(Organisation).order_by(Organisation.name))
        )
        self.pact_ids.choices = choices(
            (p.id, p.title) for p in db.session.scalars(select(Pact).order_by(Pact.title))
        )
        self.lab_ids.choices = choices(
            (lab.id, lab.title) for lab in db.session.scalars(select(Lab).order_by(Lab.title))
        )

    def service_data(self) -> dict:
        return {
            "title": self.title.data,
            "slug": self.slug.data,
            "organisation_id": self.organisation_id.data,
            "summary": self.summary.data,
            "story": self.story.data,
            "title_en": self.title_en.data or "",
            "summary_en": self.summary_en.data or "",
            "story_en": self.story_en.data or "",
            "goal_cents": self.goal.cents,
            "starts_on": self.starts_on.data,
            "ends_on": self.ends_on.data,
            "pact_ids": self.pact_ids.data or [],
            "lab_ids": self.lab_ids.data or [],
        }


class PactForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    slug = StringField(
        _l("Address (slug)"), validators=[Optional(), Length(max=120)], description=SLUG_HELP
    )
    summary = TextAreaField(_l("Summary"), validators=[DataRequired(), Length(max=500)])
    story = TextAreaField(
        _l("Story (Markdown)"),
        description=_l("Never name the beneficiary or give details that identify them."),
    )
    reciprocity = TextAreaField(
        _l("What the beneficiary gives back to the community"), validators=[DataRequired()]
    )
    place = StringField(_l("Place"), validators=[DataRequired(), Length(max=200)])
    status = SelectField(_l("Status"), choices=choices(PROGRAMME_STATUS.items()))
    cover = FileField(_l("Cover image"), description=COVER_HELP)
    title_en = _english_title()
    summary_en = _english_summary()
    story_en = _english_story()
    reciprocity_en = TextAreaField(
        _l("What the beneficiary gives back, in English"), validators=[Optional()]
    )


class LabForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    slug = StringField(
        _l("Address (slug)"), validators=[Optional(), Length(max=120)], description=SLUG_HELP
    )
    summary = TextAreaField(_l("Summary"), validators=[DataRequired(), Length(max=500)])
    story = TextAreaField(_l("Story (Markdown)"))
    place = StringField(_l("Place"), validators=[DataRequired(), Length(max=200)])
    place_kind = SelectField(_l("Kind of place"), choices=choices(PLACE_KIND.items()))
    schedule = StringField(_l("When it meets"), validators=[Optional(), Length(max=500)])
    status = SelectField(_l("Status"), choices=choices(PROGRAMME_STATUS.items()))
    cover = FileField(_l("Cover image"), description=COVER_HELP)
    title_en = _english_title()
    summary_en = _english_summary()
    story_en = _english_story()
    schedule_en = StringField(
        _l("When it meets, in English"), validators=[Optional(), Length(max=500)]
    )


class UpdateForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Text (Markdown)"), validators=[DataRequired()])
    title_en = _english_title()
    body_en = TextAreaField(_l("Text in English (Markdown)"), validators=[Optional()])
