"""An organisation's newsletter settings (sender and engagement tracking), saved from the
staff's form: checked whole, then stored and audited together, or not at all.

New drafts take them when they are made (mailing.newsletters.create and sender_defaults);
newsletters already made keep the sender and tracking choice they were made with.
"""

from flask_babel import lazy_gettext as _l

from legami import audit
from legami.extensions import db
from legami.models import Organisation, User
from legami.validation import Invalid
from mailing.checks import address, one_line
from mailing.models import MailSettings

FIELDS = ("from_name", "from_email", "reply_to", "track_engagement")


def update(organisation_id: int, data: dict, user: User | None) -> MailSettings:
    """Apply the form's data; raises Invalid, storing nothing."""
    errors: dict[str, str] = {}
    clean = {
        "from_name": one_line(data.get("from_name"), "from_name", 200, errors),
        "from_email": address(data.get("from_email"), "from_email", errors),
        "reply_to": address(data.get("reply_to"), "reply_to", errors),
        "track_engagement": bool(data.get("track_engagement")),
    }
    if db.session.get(Organisation, organisation_id) is None:
        errors["organisation_id"] = _l("Choose an organisation.")
    if errors:
        raise Invalid(errors)
    settings = db.session.get(MailSettings, organisation_id)
    if settings is None:
        # Set in full, so the audit shows the first save as changes from the empty defaults.
        settings = MailSettings(
            organisation_id=organisation_id,
            from_name="",
            from_email="",
            reply_to="",
            track_engagement=False,
        )
        db.session.add(settings)
    audit.record_update(
        user,
        "mailing.settings",
        f"organisation:{organisation_id}",
        settings,
        {key: clean[key] for key in FIELDS},
    )
    db.session.commit()
    return settings
