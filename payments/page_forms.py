"""Forms for personal fundraising pages: opening one, the owner's edits and thank-you, and
the campaign's settings for staff."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import BooleanField, DateField, EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from legami.forms import AmountField
from legami.money import MAX_GOAL_CENTS
from payments.page_models import MAX_STORY

_IMAGES = FileAllowed(["jpg", "jpeg", "png", "webp"], _l("Upload a JPEG, PNG or WebP image."))


class PageDetailsForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=150)])
    story = TextAreaField(
        _l("Your story (plain text)"), validators=[Optional(), Length(max=MAX_STORY)]
    )
    photo = FileField(_l("A photo (optional)"), validators=[Optional(), _IMAGES])
    goal = AmountField(_l("Your goal (€)"), validators=[DataRequired()], maximum=MAX_GOAL_CENTS)
    ends_on = DateField(_l("Ends on"), validators=[DataRequired()])
    on_leaderboard = BooleanField(_l("Show my page in the campaign's leaderboard"), default=True)


class OpenPageForm(PageDetailsForm):
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    display_name = StringField(
        _l("Name shown on the page (yours, a class, a team...)"),
        validators=[DataRequired(), Length(max=100)],
    )
    is_team = BooleanField(_l("This is a team page that others can join"))
    team_slug = StringField(_l("Team"), validators=[Optional(), Length(max=120)])


class ThanksForm(FlaskForm):
    message = TextAreaField(
        _l("Your message to your donors"), validators=[DataRequired(), Length(max=MAX_STORY)]
    )


class PageSettingsForm(FlaskForm):
    allow_pages = BooleanField(_l("Supporters may open personal pages for this campaign"))
    needs_approval = BooleanField(_l("Staff approve each page before it is public"), default=True)
