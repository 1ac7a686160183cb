"""Demo organisations of the network in Cremona and Crema (fictional, with valid checksums)."""

from sqlalchemy import select

from legami.extensions import db
from legami.models import EntityType, Organisation

ORGANISATIONS = [
    {
        "slug": "csv-cremona",
        "name": "Centro Servizi Volontariato Cremona ETS",
        "entity_type": EntityType.OTHER_ETS,
        "art83_eligible": True,
        "codice_fiscale": "93000450192",
        "runts_number": "RUNTS-LOM-12345",
        "street": "Via San Bernardo 2",
        "postal_code": "26100",
        "town": "Cremona",
        "province": "CR",
        "legal_representative": "Giulia Ferrari",
        "iban": "IT53X0503411400000000012345",
        "email": "info@csv-cremona.example",
    },
    {
        "slug": "coop-il-filo",
        "name": "Il Filo Cooperativa Sociale ETS",
        "entity_type": EntityType.SOCIAL_COOPERATIVE,
        "art83_eligible": True,
        "codice_fiscale": "01234560199",
        "partita_iva": "01234560199",
        "runts_number": "RUNTS-LOM-23456",
        "street": "Via Mazzini 14",
        "postal_code": "26013",
        "town": "Crema",
        "province": "CR",
        "legal_representative": "Marco Bianchi",
        "iban": "IT52A0845456789000000098765",
        "email": "amministrazione@ilfilo.example",
    },
    {
        "slug": "fondazione-comunitaria",
        "name": "Fondazione Comunitaria della Provincia di Cremona ETS",
        "entity_type": EntityType.OTHER_ETS,
        "art83_eligible": True,
        "codice_fiscale": "91000780196",
        "runts_number": "RUNTS-LOM-34567",
        "street": "Piazza del Comune 8",
        "postal_code": "26100",
        "town": "Cremona",
        "province": "CR",
        "legal_representative": "Anna Rossi",
        "iban": "IT84K0707611400000000045678",
        "email": "dona@fondazionecremona.example",
    },
]


def load_organisations() -> None:
    for data in ORGANISATIONS:
        if db.session.scalar(select(Organisation).where(Organisation.slug == data["slug"])):
            continue
        db.session.add(Organisation(**data))
    db.session.flush()
