"""A believable programme in Cremona and Crema: pacts, labs, and campaigns in every state.

Beneficiaries are never named. The gifts, and so the raised figures, come from the
payments demo.
"""

import io
from datetime import timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from campaigns.models import Campaign, CampaignStatus, Lab, Pact, PlaceKind, ProgrammeStatus, Update
from legami.extensions import db
from legami.models import Organisation
from legami.timeutil import now_utc, today_rome
from legami.uploads import save_image

PACTS = [
    {
        "slug": "un-tetto-e-un-orto",
        "title": "Un tetto e un orto",
        "summary": "Un affitto ponte per una famiglia sfrattata a Cremona, mentre cerca casa.",
        "story": "Una famiglia con due bambini ha perso la casa dopo la chiusura della ditta "
        "in cui lavorava il padre. Il patto copre sei mesi di affitto e le utenze.\n\n"
        "Il quartiere Cambonino ha messo a disposizione un alloggio sfitto.",
        "reciprocity": "Cura l'orto condiviso di via Ca' del Ferro due pomeriggi a settimana "
        "e insegna ai ragazzi del doposcuola a coltivarlo.",
        "place": "Cremona, quartiere Cambonino",
        "status": ProgrammeStatus.ACTIVE,
        "title_en": "A roof and a garden",
        "summary_en": "Bridging rent for an evicted family in Cremona while they look for a home.",
        "reciprocity_en": "Tends the shared garden in via Ca' del Ferro two afternoons a week "
        "and teaches the after-school children to grow it.",
    },
    {
        "slug": "patente-per-lavorare",
        "title": "Una patente per lavorare",
        "summary": "Il corso e l'esame di guida per chi ha un'offerta di lavoro a Crema.",
        "story": "Un giovane adulto ha un'offerta come magazziniere, ma la sede non è servita "
        "dai mezzi pubblici negli orari dei turni.",
        "reciprocity": "Accompagna in auto, una volta al mese, gli anziani del centro civico "
        "alle visite mediche.",
        "place": "Crema",
        "status": ProgrammeStatus.ACTIVE,
    },
    {
        "slug": "bollette-e-riparazioni",
        "title": "Bollette e riparazioni",
        "summary": "Arretrati delle utenze saldati per una persona anziana sola.",
        "story": "Dopo una lunga malattia le bollette si sono accumulate.",
        "reciprocity": "Ripara biciclette per la ciclofficina del quartiere il sabato mattina.",
        "place": "Casalmaggiore",
        "status": ProgrammeStatus.CONCLUDED,
    },
    {
        "slug": "libri-e-doposcuola",
        "title": "Libri e doposcuola",
        "summary": "Libri di testo e doposcuola per tre ragazzi di una famiglia monoreddito.",
        "story": "La famiglia è arrivata in Italia da due anni; i ragazzi studiano con impegno.",
        "reciprocity": "La madre, mediatrice culturale, tiene un corso di arabo per le "
        "insegnanti della scuola del quartiere.",
        "place": "Cremona, quartiere Zaist",
        "status": ProgrammeStatus.PROPOSED,
    },
]

LABS = [
    {
        "slug": "lab-cambonino",
        "title": "Laboratorio di comunità Cambonino",
        "summary": "Residenti, parrocchia e scuola leggono insieme i bisogni del quartiere.",
        "story": "Dalla prima lettura sono nati l'orto condiviso e lo sportello casa.",
        "place": "Cremona, quartiere Cambonino",
        "place_kind": PlaceKind.NEIGHBOURHOOD,
        "schedule": "Il primo martedì del mese alle 20:30, centro civico di via Brescia",
        "status": ProgrammeStatus.ACTIVE,
    },
    {
        "slug": "lab-crema-lavoro",
        "title": "Laboratorio Lavoro Crema",
        "summary": "Lavoratori e imprese del distretto cosmetico sul lavoro povero.",
        "story": "Un laboratorio dentro i luoghi di lavoro, con sindacati e imprese.",
        "place": "Crema, distretto cosmetico",
        "place_kind": PlaceKind.WORKPLACE,
        "schedule": "Ogni terzo giovedì, in pausa pranzo",
        "status": ProgrammeStatus.ACTIVE,
    },
    {
        "slug": "lab-soresina",
        "title": "Laboratorio di comunità Soresina",
        "summary": "Un paese che si interroga sulla solitudine degli anziani.",
        "story": "Il laboratorio partirà in primavera con il Comune e le associazioni.",
        "place": "Soresina",
        "place_kind": PlaceKind.TOWN,
        "schedule": "Da definire",
        "status": ProgrammeStatus.PROPOSED,
    },
]


def _campaigns() -> list[dict]:
    today = today_rome()
    return [
        {
            "slug": "casa-e-orto-cambonino",
            "organisation": "csv-cremona",
            "title": "Casa e orto al Cambonino",
            "summary": "Sostieni i patti che danno una casa e restituiscono un orto al quartiere.",
            "story": "## Perché\n\nNel quartiere Cambonino tre famiglie su dieci faticano a "
            "pagare l'affitto. Con il **patto gener-attivo** la comunità aiuta, e chi è aiutato "
            "restituisce tempo e competenze.\n\n## Cosa finanzi\n\n- sei mesi di affitto\n"
            "- gli attrezzi per l'orto condiviso\n- il lavoro del laboratorio di comunità",
            # Translated in part: English visitors see the story in Italian, marked.
            "title_en": "A home and a garden in Cambonino",
            "summary_en": "Back the pacts that give a home and give a garden back to the area.",
            "goal_cents": 1_200_000,
            "starts_on": today - timedelta(days=30),
            "ends_on": today + timedelta(days=45),
            "status": CampaignStatus.LIVE,
            "pacts": ["un-tetto-e-un-orto"],
            "labs": ["lab-cambonino"],
            "updates": [
                ("Il primo raccolto", "Sabato l'orto ha dato i primi pomodori: grazie a tutti."),
                ("Metà strada", "Abbiamo superato la metà dell'obiettivo in tre settimane."),
            ],
        },
        {
            "slug": "al-lavoro-a-crema",
            "organisation": "coop-il-filo",
            "title": "Al lavoro a Crema",
            "summary": "Patenti, abbonamenti e un laboratorio sul lavoro povero nel distretto.",
            "story": "Chi trova lavoro deve poterci arrivare. Finanziamo la patente e gli "
            "abbonamenti, e il laboratorio che ne studia le cause con le imprese.",
            "goal_cents": 800_000,
            "starts_on": today - timedelta(days=10),
            "ends_on": today + timedelta(days=80),
            "status": CampaignStatus.LIVE,
            "pacts": ["patente-per-lavorare"],
            "labs": ["lab-crema-lavoro"],
            "updates": [("Si parte", "Il laboratorio si è riunito per la prima volta.")],
        },
        {
            "slug": "inverno-al-caldo",
            "organisation": "fondazione-comunitaria",
            "title": "Un inverno al caldo",
            "summary": "Bollette e piccole riparazioni per chi vive solo.",
            "story": "La campagna dello scorso inverno ha superato l'obiettivo.",
            "goal_cents": 500_000,
            "starts_on": today - timedelta(days=300),
            "ends_on": today - timedelta(days=200),
            "status": CampaignStatus.ENDED,
            "pacts": ["bollette-e-riparazioni"],
            "labs": [],
            "updates": [("Obiettivo superato", "Grazie a tutti: l'obiettivo è stato superato.")],
        },
        {
            "slug": "scuola-per-tutti",
            "organisation": "fondazione-comunitaria",
            "title": "La scuola per tutti",
            "summary": "Libri e doposcuola allo Zaist, con il laboratorio di Soresina.",
            "story": "In preparazione.",
            "goal_cents": 600_000,
            "starts_on": today + timedelta(days=20),
            "ends_on": today + timedelta(days=120),
            "status": CampaignStatus.DRAFT,
            "pacts": ["libri-e-doposcuola"],
            "labs": ["lab-soresina"],
            "updates": [],
        },
    ]


COLOURS = {
    "casa-e-orto-cambonino": ((163, 49, 27), (238, 190, 92)),
    "al-lavoro-a-crema": ((31, 111, 92), (196, 226, 210)),
    "inverno-al-caldo": ((44, 62, 112), (214, 222, 240)),
    "scuola-per-tutti": ((125, 35, 15), (250, 233, 198)),
}


def _cover(slug: str) -> str:
    """A simple generated landscape (sky, fields, sun) so demo pages have their images."""
    dark, light = COLOURS[slug]
    image = Image.new("RGB", (960, 540), light)
    draw = ImageDraw.Draw(image)
    for band in range(6):
        top = 300 + band * 40
        shade = tuple(d + (lt - d) * band // 8 for d, lt in zip(dark, light, strict=True))
        draw.rectangle((0, top, 960, top + 40), fill=shade)
    draw.ellipse((700, 60, 820, 180), fill=(255, 248, 220))
    out = io.BytesIO()
    image.save(out, "PNG")
    return save_image(FileStorage(io.BytesIO(out.getvalue()), f"{slug}.png"), "cover")


def _by_slug(model, slug: str):
    return db.session.scalar(select(model).where(model.slug == slug))


def load() -> None:
    """Add what is missing, leave what exists alone: running twice changes nothing."""
    for data in PACTS:
        if _by_slug(Pact, data["slug"]) is None:
            db.session.add(Pact(**data))
    for data in LABS:
        if _by_slug(Lab, data["slug"]) is None:
            db.session.add(Lab(**data))
    db.session.flush()
    for spec in _campaigns():
        if _by_slug(Campaign, spec["slug"]) is not None:
            continue
        data = dict(spec)
        updates = data.pop("updates")
        campaign = Campaign(
            **{k: v for k, v in data.items() if k not in ("organisation", "pacts", "labs")},
            organisation=_by_slug(Organisation, data["organisation"]),
            pacts=[_by_slug(Pact, s) for s in data["pacts"]],
            labs=[_by_slug(Lab, s) for s in data["labs"]],
            cover=_cover(data["slug"]),
        )
        if campaign.status != CampaignStatus.DRAFT:
            campaign.published_at = now_utc() - timedelta(
                days=(today_rome() - campaign.starts_on).days
            )
        for age, (title, body) in enumerate(updates):
            campaign.updates.append(
                Update(title=title, body=body, published_at=now_utc() - timedelta(days=3 + 7 * age))
            )
        db.session.add(campaign)
    db.session.flush()
