"""The OpenAPI document tells the truth: schemathesis generates requests from it (valid and
invalid ones, a bounded number per operation) against the app, with an admin's token where
the document asks for one, and checks every answer: no server error; status codes, content
types, headers and bodies as documented; invalid input refused and valid input accepted.

A document cannot say which slugs and ids exist: valid requests name the ones made here
(what a client reads from the API first), the generated values stay everywhere else."""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from legami.extensions import db
from legami.models import ApiToken
from tests import factories

EXAMPLES = 12
WRITE_OK = ["2xx", "404", "409", "422"]


def _world() -> dict:
    """An admin's token, and a little of everything the API reads."""
    user = factories.user(roles=("admin",))
    _row, secret = ApiToken.issue(user)
    organisation = factories.organisation(slug="rete")
    factories.pact(slug="tetto")
    factories.lab(slug="orto")
    factories.donation(campaign=factories.campaign(slug="orto-comune", organisation=organisation))
    db.session.commit()
    return {
        "token": secret,
        # Body fields and query parameters that name other records, with existing ones.
        "references": {
            "organisation": "rete",
            "pacts": ["tetto"],
            "labs": ["orto"],
            "organisation_id": organisation.id,
        },
        "query": {"organisation": str(organisation.id)},
    }


def _config(token: str) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            # Unknown query parameters are ignored, as HTTP APIs do; everything else counts.
            "generation": {"allow-extra-parameters": False},
            "auth": {"openapi": {"bearer": {"bearer": token}}},
            "operations": [
                {
                    # Writes check what a schema cannot say (a valid codice fiscale, an end
                    # after the start, a free slug): 422 there, as their descriptions say.
                    "include-method": ["POST", "PATCH"],
                    "checks": {"positive_data_acceptance": {"expected-statuses": WRITE_OK}},
                }
            ],
        }
    )


def _existing(case, world: dict) -> None:
    if isinstance(case.body, dict):
        for name, value in world["references"].items():
            if name in case.body:
                case.body[name] = value
    for name, value in world["query"].items():
        if case.query and name in case.query:
            case.query[name] = value


def _run(operation, mode: GenerationMode, world: dict) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
    )
    def check(case):
        if mode == GenerationMode.POSITIVE:
            _existing(case, world)
        case.call_and_validate()

    try:
        check()
    except Unsatisfiable:
        assert mode == GenerationMode.NEGATIVE  # nothing can be wrong (a free-text slug)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_answers_as_its_document_says(app, mode):
    world = _world()
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", app, config=_config(world["token"])
    )
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            _run(operation, mode, world)
        except (Exception, BaseExceptionGroup) as exc:  # every operation's, not the first's
            failures.append(f"{operation.label}: {exc}")
    assert failures == [], "\n\n".join(failures)


def test_an_empty_body_is_refused_naming_every_documented_required_field(app, client):
    world = _world()
    document = client.get("/api/v1/openapi.json").json
    headers = {"Authorization": f"Bearer {world['token']}"}
    schemas = document["components"]["schemas"]
    checked = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if method != "post" or body is None or "{" in path:
                continue
            required = set(schemas[body["schema"]["$ref"].rsplit("/", 1)[1]].get("required", []))
            answer = client.open(f"/api/v1{path}", method="POST", json={}, headers=headers)
            assert answer.status_code == 422, (path, answer.text)
            named = {error["field"] for error in answer.json["errors"]}
            assert required and required <= named, (path, required, named)
            checked += 1
    assert checked >= 4


def test_405_answers_carry_allow(client):
    answer = client.delete("/api/v1/campaigns")
    assert answer.status_code == 405
    assert answer.mimetype == "application/problem+json"
    assert set(answer.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    page = client.put("/staff/login")
    assert page.status_code == 405 and "POST" in page.headers["Allow"]
