"""Demo gifts for the demo campaigns: card, transfer and cash gifts from Cremona donors,
a few transfers still waiting for the treasurer. Deterministic and idempotent."""

import random
from datetime import datetime, time, timedelta

from sqlalchemy import select

from campaigns.models import Campaign
from donors.identity import DonorDetails, find_or_create
from legami.extensions import db
from legami.timeutil import ROME, today_rome
from payments import references
from payments.models import Donation, Method
from payments.transitions import mark_succeeded

FIRST = [
    "Giulia",
    "Marco",
    "Anna",
    "Luca",
    "Chiara",
    "Paolo",
    "Sara",
    "Matteo",
    "Elena",
    "Davide",
    "Francesca",
    "Andrea",
    "Laura",
    "Stefano",
    "Marta",
    "Giorgio",
]
LAST = [
    "Ferrari",
    "Bianchi",
    "Rossi",
    "Ghisalberti",
    "Fiorentini",
    "Mainardi",
    "Zanoni",
    "Bertoletti",
    "Cavalli",
    "Manfredini",
    "Sanfelici",
    "Poli",
    "Bonali",
    "Ruggeri",
]
TOWNS = [
    ("26100", "Cremona"),
    ("26013", "Crema"),
    ("26041", "Casalmaggiore"),
    ("26015", "Soresina"),
    ("26012", "Castelleone"),
]
# slug -> (number of gifts, pending transfers)
PLAN = {
    "casa-e-orto-cambonino": (118, 3),
    "al-lavoro-a-crema": (41, 2),
    "inverno-al-caldo": (96, 0),
}
AMOUNTS = [1000, 2000, 2500, 5000, 5000, 10000, 3000, 1500, 20000, 7500]


def load() -> None:
    rng = random.Random(2026)
    for slug, (gifts, pending) in PLAN.items():
        campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
        if campaign is None or db.session.scalar(
            select(Donation.id).where(Donation.campaign_id == campaign.id).limit(1)
        ):
            continue
        span = max((min(today_rome(), campaign.ends_on) - campaign.starts_on).days, 1)
        for n in range(gifts + pending):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            postal_code, town = rng.choice(TOWNS)
            donor = find_or_create(
                DonorDetails(
                    email=f"{first}.{last}.{n}@example.org".lower(),
                    first_name=first,
                    last_name=last,
                    postal_code=postal_code,
                    town=town,
                    province="CR",
                ),
                source="demo",
            )
            method = rng.choice([Method.CARD, Method.CARD, Method.BANK_TRANSFER, Method.CASH])
            if n >= gifts:
                method = Method.BANK_TRANSFER
            donation = Donation(
                campaign=campaign,
                organisation_id=campaign.organisation_id,
                donor=donor,
                amount_cents=rng.choice(AMOUNTS),
                method=method,
                show_name=rng.random() < 0.4,
                payment_reference=references.new_reference()
                if method == Method.BANK_TRANSFER
                else None,
            )
            db.session.add(donation)
            db.session.flush()
            if n < gifts:
                day = campaign.starts_on + timedelta(days=rng.randrange(span))
                when = datetime.combine(day, time(rng.randrange(8, 22)), tzinfo=ROME)
                mark_succeeded(donation.id, when=when)
    db.session.flush()
