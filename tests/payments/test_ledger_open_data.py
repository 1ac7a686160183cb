"""Open data: the JSON (pages and API) validated against the JSON Schema files in the repo,
the CSV's columns and licence line, and a scan of every public page and export for the
personal data the back office holds (payee, document, reversal reason, donors, the pact
beneficiary a careless note might name): none appears."""

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from legami.config import ROOT
from legami.extensions import db
from payments import expenses
from tests import factories
from tests.payments.ledger_helpers import approved, expense, funded_pact, outcome
from tests.payments.matching import transfer

SCHEMAS = Path(ROOT) / "static" / "open-data"
BENEFICIARY = "Giuseppina Verdoni"
BENEFICIARY_CF = "VRDGPP60A41D150X"


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context("/?lang=en"):
        yield


def _world():
    """A pact and a lab with gifts, expenses (approved, pending, reversed) and outcomes; the
    beneficiary's name sits only where staff keep private notes."""
    pact, campaign = funded_pact(60_000)
    lab = factories.lab()
    campaign.labs.append(lab)
    db.session.commit()
    donor = factories.donor(first_name="Arturo", last_name="Donatorelli")
    transfer(campaign, 7_000, donor=donor)
    treasurer = factories.user(roles=("treasurer",))
    admin = factories.user(roles=("admin",))
    approved(campaign, 10_000, treasurer, admin, pact=pact, payee=f"Affitto {BENEFICIARY}")
    wrong = approved(campaign, 2_000, treasurer, admin, lab=lab, category="food")
    reversal = expenses.reverse(wrong, f"Era per {BENEFICIARY} {BENEFICIARY_CF}", treasurer)
    expenses.approve(reversal, admin)
    db.session.commit()
    expense(campaign, 3_000, treasurer, description="In attesa di approvazione")
    outcome(pact=pact, kind="task", quantity=3, description="Tre commissioni per il vicinato")
    outcome(lab=lab, kind="action", quantity=1, description="Orto condiviso avviato")
    return pact, lab, campaign


def test_json_of_every_ledger_and_the_network_validates_against_its_schema(client):
    pact, lab, campaign = _world()
    ledger_schema = validator("ledger.schema.json")
    for url in (
        f"/fondi/patti/{pact.slug}.json",
        f"/fondi/laboratori/{lab.slug}.json",
        f"/fondi/campagne/{campaign.slug}.json",
        f"/api/v1/ledger/pacts/{pact.slug}",
        f"/api/v1/ledger/labs/{lab.slug}",
        f"/api/v1/ledger/campaigns/{campaign.slug}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        document = response.get_json()
        ledger_schema.validate(document)
        assert document["licence"] == "CC BY 4.0"
        assert document["raised_cents"] - document["spent_cents"] == document["available_cents"]
    document = client.get(f"/fondi/patti/{pact.slug}.json").get_json()
    assert (document["raised_cents"], document["spent_cents"]) == (67_000, 10_000)
    assert [e["amount_cents"] for e in document["expenses"]] == [10_000, 2_000, -2_000]
    assert document["restitution_totals"] == {"task": 3}
    network_schema = validator("network.schema.json")
    for url in ("/fondi/rete.json", "/api/v1/ledger/network"):
        network_schema.validate(client.get(url).get_json())
    assert client.get("/api/v1/ledger/pacts/nessuno").status_code == 404
    assert client.get("/api/v1/ledger/donors/x").status_code == 404
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/ledger/network" in paths and "/ledger/{kind}/{slug}" in paths


def test_csv_has_the_documented_columns_and_the_licence_line(client):
    pact, _lab, _campaign = _world()
    text = client.get(f"/fondi/patti/{pact.slug}.csv").text.lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == [
        "record",
        "date",
        "category",
        "kind",
        "description",
        "amount_cents",
        "quantity",
        "currency",
    ]
    figures = {row[0]: int(row[5]) for row in rows[1:5]}
    assert figures == {"raised": 67_000, "matched": 0, "spent": 10_000, "available": 57_000}
    assert rows[-1][0] == "Licence: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)"
    network = client.get("/fondi/rete.csv").text.lstrip("\ufeff")
    lines = list(csv.reader(io.StringIO(network), delimiter=";"))
    assert lines[0][:3] == ["organisation", "strategy", "year"]
    assert lines[-1][0].startswith("Licence: CC BY 4.0")


def test_no_public_page_or_export_holds_personal_data(client):
    pact, lab, campaign = _world()
    urls = ["/fondi/", "/fondi/rete.json", "/fondi/rete.csv", "/api/v1/ledger/network"]
    for kind, api_kind, row in (
        ("patti", "pacts", pact),
        ("laboratori", "labs", lab),
        ("campagne", "campaigns", campaign),
    ):
        urls += [f"/fondi/{kind}/{row.slug}{suffix}" for suffix in ("", ".json", ".csv")]
        urls += [f"/fondi/{kind}/{row.slug}?lang=en", f"/api/v1/ledger/{api_kind}/{row.slug}"]
    urls += [f"/patti/{pact.slug}", f"/laboratori/{lab.slug}", f"/campagne/{campaign.slug}"]
    private = [
        BENEFICIARY,
        "Verdoni",
        BENEFICIARY_CF,
        "Ferramenta Bianchi",  # the payee
        "Donatorelli",  # a donor who did not ask to be shown
        "In attesa di approvazione",  # not approved yet
        "expense_documents",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        for text in private:
            assert text not in response.text, (url, text)


def test_matched_amounts_show_apart_and_the_matchers_payment_counts_as_foundations(client):
    from payments import matching_settlement, plan
    from tests.payments.matching import challenge

    pact, campaign = funded_pact()
    today = date.today()
    window = {"starts_on": today - timedelta(days=4), "ends_on": today - timedelta(days=1)}
    found = challenge(campaign, cap_cents=50_000, **window)
    transfer(campaign, 8_000, day=today - timedelta(days=2))
    page = client.get(f"/fondi/patti/{pact.slug}?lang=en").text
    assert "Matched (pledged by matchers, apart)" in page
    document = client.get(f"/fondi/patti/{pact.slug}.json").get_json()
    assert (document["raised_cents"], document["matched_cents"]) == (8_000, 8_000)
    assert document["available_cents"] == 8_000  # a pledge is not money to spend
    matching_settlement.ask(found.id, None)
    matching_settlement.settle(found.id, 8_000, date.today(), "TRN-1", None)
    db.session.commit()
    db.session.expire_all()
    document = client.get(f"/fondi/patti/{pact.slug}.json").get_json()
    assert document["raised_cents"] == 16_000  # the matcher's payment is now a gift
    validator("ledger.schema.json").validate(document)
    report = plan.period(date(date.today().year, 1, 1), date.today())
    assert report.matching_received_cents == 8_000
    assert report.by_channel["foundations"] == 8_000
