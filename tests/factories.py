"""Small factories for test data; each call makes a new, valid row."""

import io
import itertools
from datetime import UTC, datetime, timedelta

from PIL import Image
from stdnum import luhn

from campaigns.models import (
    Campaign,
    CampaignStatus,
    CampaignTotal,
    Lab,
    Pact,
    PlaceKind,
    ProgrammeStatus,
)
from donors.giving_figures import rebuild_for
from donors.models import Donor
from legami.extensions import db
from legami.models import EntityType, Organisation, User
from legami.timeutil import today_rome
from payments.models import Donation, Method, Status

_seq = itertools.count(1)

# A valid Italian IBAN; entity codici fiscali are made with a valid check digit by _cf().
IBAN = "IT53X0503411400000000012345"


def user(roles=("staff",), password="correct horse battery", email=None) -> User:
    n = next(_seq)
    row = User(email=email or f"user{n}@example.org", name=f"User {n}")
    row.set_roles(roles)
    row.set_password(password)
    db.session.add(row)
    db.session.commit()
    return row


def organisation(**overrides) -> Organisation:
    n = next(_seq)
    data = {
        "slug": f"org-{n}",
        "name": f"Organizzazione {n} ETS",
        "entity_type": EntityType.OTHER_ETS,
        "codice_fiscale": _cf(n),
        "street": "Via Roma 1",
        "postal_code": "26100",
        "town": "Cremona",
        "province": "CR",
        "legal_representative": "Maria Verdi",
        "iban": IBAN,
        "email": f"org{n}@example.org",
        **overrides,
    }
    row = Organisation(**data)
    db.session.add(row)
    db.session.commit()
    return row


def _cf(n: int) -> str:
    base = f"{9000000 + n:07d}019"
    return base + luhn.calc_check_digit(base)


def pact(**overrides) -> Pact:
    n = next(_seq)
    row = Pact(
        **{
            "slug": f"patto-{n}",
            "title": f"Patto {n}",
            "summary": "Un patto di prova.",
            "story": "Storia.",
            "reciprocity": "Restituisce tempo al quartiere.",
            "place": "Cremona",
            "status": ProgrammeStatus.ACTIVE,
            **overrides,
        }
    )
    db.session.add(row)
    db.session.commit()
    return row


def lab(**overrides) -> Lab:
    n = next(_seq)
    row = Lab(
        **{
            "slug": f"lab-{n}",
            "title": f"Laboratorio {n}",
            "summary": "Un laboratorio di prova.",
            "place": "Crema",
            "place_kind": PlaceKind.NEIGHBOURHOOD,
            "schedule": "Il martedì",
            "status": ProgrammeStatus.ACTIVE,
            **overrides,
        }
    )
    db.session.add(row)
    db.session.commit()
    return row


def campaign(**overrides) -> Campaign:
    n = next(_seq)
    today = today_rome()
    data = {
        "slug": f"campagna-{n}",
        "title": f"Campagna {n}",
        "summary": "Una campagna di prova.",
        "story": "La storia della campagna.",
        "goal_cents": 1_000_000,
        "starts_on": today - timedelta(days=5),
        "ends_on": today + timedelta(days=25),
        "status": CampaignStatus.LIVE,
        **overrides,
    }
    if "organisation" not in data:
        data["organisation"] = organisation()
    raised, gifts = data.pop("raised_cents", 0), data.pop("gift_count", 0)
    row = Campaign(**data)
    db.session.add(row)
    db.session.flush()
    if raised or gifts:
        db.session.add(
            CampaignTotal(campaign_id=row.id, slot=0, raised_cents=raised, gift_count=gifts)
        )
    db.session.commit()
    db.session.refresh(row)
    return row


def image_bytes(fmt: str = "PNG", size=(64, 36)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (163, 49, 27)).save(out, format=fmt)
    return out.getvalue()


def donor(**overrides) -> Donor:
    n = next(_seq)
    data = {"email": f"donor{n}@example.org", "first_name": "Maria", "last_name": f"Rossi{n}"}
    row = Donor(**{**data, **overrides})
    db.session.add(row)
    db.session.commit()
    return row


def donation(**overrides) -> Donation:
    """A succeeded gift (by card, today, 25 EUR unless told), with its own donor and campaign."""
    today = today_rome()
    data = {
        "amount_cents": 2500,
        "method": Method.CARD,
        "status": Status.SUCCEEDED,
        "received_on": today,
        **overrides,
    }
    if "donor" not in data and "donor_id" not in data:
        data["donor"] = donor()
    if "campaign" not in data and "campaign_id" not in data:
        data["campaign"] = campaign()
    if "organisation" not in data and "organisation_id" not in data:
        data["organisation_id"] = (
            data["campaign"].organisation_id
            if "campaign" in data
            else db.session.get(Campaign, data["campaign_id"]).organisation_id
        )
    if data["status"] == Status.SUCCEEDED and "succeeded_at" not in data:
        received = data["received_on"]
        data["succeeded_at"] = datetime(received.year, received.month, received.day, 10, tzinfo=UTC)
    row = Donation(**data)
    db.session.add(row)
    db.session.flush()
    rebuild_for(row.donor_id)  # the donor's per-year totals, as payments keeps them
    db.session.commit()
    return row
