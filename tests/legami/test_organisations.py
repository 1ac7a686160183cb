"""Organisations: identifiers validated, bad input re-renders the form and stores nothing."""

import io

import pytest
from sqlalchemy import func, select

from legami.extensions import db
from legami.models import Organisation
from tests import factories

VALID = {
    "name": "Centro Servizi Volontariato Cremona ETS",
    "slug": "csv-cremona",
    "entity_type": "odv",
    "art83_eligible": "y",
    "codice_fiscale": "93000450192",
    "partita_iva": "",
    "runts_number": "RUNTS-LOM-1",
    "street": "Via San Bernardo 2",
    "postal_code": "26100",
    "town": "Cremona",
    "province": "cr",
    "legal_representative": "Giulia Ferrari",
    "iban": "it53 x050 3411 4000 0000 0012 345",
    "email": "info@csv.example",
}


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Organisation))


def test_admin_creates_an_organisation_with_normalised_identifiers(client, login):
    login("admin")
    data = {**VALID, "logo": (io.BytesIO(factories.image_bytes("PNG")), "logo.png")}
    response = client.post(
        "/staff/organisations/new", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    org = db.session.scalar(select(Organisation))
    assert org.iban == "IT53X0503411400000000012345"
    assert org.province == "CR"
    assert org.entity_type == "odv" and org.art83_eligible is True
    assert org.logo.endswith(".png")
    assert org.address == "Via San Bernardo 2, 26100 Cremona (CR)"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("codice_fiscale", "93000450193", "not a valid codice fiscale"),
        ("codice_fiscale", "RSSMRA85T10A562X", "not a valid codice fiscale"),
        ("iban", "IT60X0542811101000000123457", "not a valid IBAN"),
        ("partita_iva", "12345678901", "not a valid partita IVA"),
        ("postal_code", "2610", "Five digits"),
        ("slug", "Con Spazi", "Lower-case letters"),
    ],
)
def test_bad_identifiers_are_refused(client, login, field, value, message):
    login("admin")
    response = client.post(
        "/staff/organisations/new", data={**VALID, field: value}, query_string={"lang": "en"}
    )
    assert response.status_code == 422
    assert message in response.text
    assert f'id="{field}-error"' in response.text
    assert _count() == 0


def test_a_person_codice_fiscale_is_accepted_and_duplicates_are_not(client, login):
    login("admin")
    first = {**VALID, "codice_fiscale": "RSSMRA85T10A562S"}
    assert client.post("/staff/organisations/new", data=first).status_code == 302
    again = client.post(
        "/staff/organisations/new", data={**first, "slug": "altro"}, query_string={"lang": "en"}
    )
    assert again.status_code == 422
    assert "Another organisation already has this value." in again.text
    assert _count() == 1


def test_treasurer_sees_organisations_but_cannot_edit(client, login):
    factories.organisation(name="Fondazione Comunitaria ETS")
    login("treasurer")
    assert "Fondazione Comunitaria ETS" in client.get("/staff/organisations").text
    assert client.get("/staff/organisations/new").status_code == 403
