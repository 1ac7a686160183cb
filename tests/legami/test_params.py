"""Numbers from clients: one bounded parser, and no route answers 5xx to a hostile number.

The route walk is generated from the URL map: every GET route, as each role, with every
parameter name its view's module mentions set to hostile numbers (Unicode digits, 40 digits,
out of range); a 400 naming one parameter drops it and tries the rest. Streamed answers are
read to their end.
"""

import inspect
import json
import re
import sys

import pytest
from werkzeug.routing import AnyConverter, Rule

from donors.models import Segment
from legami import params
from legami.extensions import db
from legami.models import ApiToken
from mailing.models import Newsletter, NewsletterVersion
from tests import factories

HOSTILE = ["²", "9" * 40, "٣", "0", "2147483648"]
COMMON_NAMES = ["page", "per_page", "year", "years", "campaign", "organisation", "donor", "id"]
WORD = re.compile(r"""["']([a-z][a-z_]{0,29})["']""")
FIELD = re.compile(r"^\s+([a-z][a-z_]{0,29})\s*=\s*\w*Field\(", re.MULTILINE)


@pytest.mark.parametrize(
    ("text", "bounds", "expected"),
    [
        ("1", params.ID, 1),
        ("2147483647", params.ID, 2**31 - 1),
        ("1000000", params.PAGE, 10**6),
        ("1900", params.YEAR, 1900),
        ("2200", params.YEAR, 2200),
        (7, params.PAGE, 7),
    ],
)
def test_parse_accepts_ascii_digits_within_bounds(text, bounds, expected):
    assert params.parse(text, bounds, "n") == expected


@pytest.mark.parametrize(
    ("value", "bounds"),
    [
        ("²", params.PAGE),
        ("٣", params.PAGE),
        ("\uff11", params.PAGE),  # fullwidth one
        (" 1", params.PAGE),
        ("+1", params.PAGE),
        ("-1", params.PAGE),
        ("1.0", params.PAGE),
        ("1e3", params.PAGE),
        ("", params.PAGE),
        ("0", params.PAGE),
        ("1000001", params.PAGE),
        ("9" * 40, params.ID),
        ("2147483648", params.ID),
        ("1899", params.YEAR),
        ("2201", params.YEAR),
        ("101", params.PER_PAGE),
        (True, params.ID),
        (1.0, params.ID),
        (None, params.ID),
        ([1], params.ID),
        (2**31, params.ID),
    ],
)
def test_parse_refuses_everything_else_with_a_message(value, bounds):
    with pytest.raises(params.BadParameter) as caught:
        params.parse(value, bounds, "page")
    assert caught.value.field == "page"
    assert f"page must be a whole number from {bounds.low} to {bounds.high}." == (
        caught.value.description
    )


def test_path_ids_out_of_bounds_match_no_route(client, login):
    login("admin")
    donor = factories.donor()
    assert client.get(f"/staff/donors/{donor.id}").status_code == 200
    for bad in ("2147483648", "9" * 40, "٣", "0"):
        assert client.get(f"/staff/donors/{bad}").status_code == 404, bad
    assert client.get("/api/v1/donors/99999999999999999999").status_code == 404


def test_query_numbers_answer_400_pages_and_422_problems(client, login):
    login("staff")
    page = client.get("/staff/donations?lang=en&campaign=" + "9" * 40)
    assert page.status_code == 400
    assert "campaign must be a whole number from 1 to 2147483647." in page.text
    problem = client.get("/api/v1/campaigns?page=²")
    assert problem.status_code == 422
    assert problem.mimetype == "application/problem+json"
    assert problem.json["errors"] == [
        {"field": "page", "message": "page must be a whole number from 1 to 1000000."}
    ]
    over = client.get("/api/v1/campaigns?per_page=101")
    assert over.status_code == 422 and over.json["errors"][0]["field"] == "per_page"


def _data():
    """One row of each kind a route's path names, so detail pages are reached."""
    organisation = factories.organisation()
    factories.pact()
    factories.lab()
    campaign = factories.campaign(organisation=organisation)
    gift = factories.donation(campaign=campaign)
    factories.donor()
    db.session.add(Segment(name="Tutti", definition={}))
    newsletter = Newsletter(organisation_id=organisation.id, title="Notizie")
    db.session.add(newsletter)
    db.session.flush()
    db.session.add(
        NewsletterVersion(
            newsletter_id=newsletter.id, language="it", subject="Notizie", body="Ciao"
        )
    )
    db.session.commit()
    return {"slug": campaign.slug, "donor": gift.donor_id}


def _url(rule: Rule, data: dict) -> str | None:
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if isinstance(converter, params.IdConverter):
            values[name] = 2 if name == "b" else 1
        elif name == "slug":
            values[name] = data["slug"]
        elif isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif name == "filename":
            return None
        else:
            values[name] = "x"
    return rule.build(values)[1]


def _names(view) -> list[str]:
    """Every quoted word and form field name in the view's package: the names it may read."""
    package = inspect.unwrap(view).__module__.split(".")[0]
    names = set(COMMON_NAMES)
    for name, module in list(sys.modules.items()):
        if name == package or name.startswith(package + "."):
            source = inspect.getsource(module)
            names |= set(WORD.findall(source)) | set(FIELD.findall(source))
    return sorted(names)


def _refused_field(answer, body: bytes, names) -> str | None:
    """The parameter a 400 page or 422 problem names, if it is one of `names`."""
    if answer.status_code == 422 and answer.mimetype == "application/problem+json":
        fields = [e.get("field") for e in json.loads(body).get("errors", [])]
        return next((f for f in fields if f in names), None)
    if answer.status_code == 400:
        found = re.search(r"([a-z_]+) must be a whole number", body.decode())
        return found.group(1) if found and found.group(1) in names else None
    return None


def _walk(app, client, headers: dict) -> list[str]:
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a server error is an answer to record
    data = _data()
    failures = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        url = _url(rule, data)
        if url is None:
            continue
        names = _names(app.view_functions[rule.endpoint])
        for value in HOSTILE:
            left = list(names)
            while True:
                query = {name: value for name in left}
                query["lang"] = "en"
                answer = client.get(url, query_string=query, headers=headers)
                body = b"".join(answer.response)  # streamed exports to their end
                answer.close()
                if answer.status_code >= 500:
                    failures.append(f"{rule.endpoint} {url} ={value!r}: {answer.status_code}")
                    break
                field = _refused_field(answer, body, left)
                if field is None:
                    break
                left.remove(field)
    return failures


@pytest.mark.parametrize("role", ["staff", "treasurer", "admin"])
def test_every_get_route_survives_hostile_numbers(app, client, login, role):
    login(role)
    assert _walk(app, client, {}) == []


def test_every_api_route_survives_hostile_numbers_with_a_token(app, client):
    user = factories.user(roles=("admin",))
    _row, token = ApiToken.issue(user)
    db.session.commit()
    assert _walk(app, client, {"Authorization": f"Bearer {token}"}) == []


def test_json_bodies_of_the_wrong_shape_are_422_or_400_never_500(client, login):
    login("staff")
    answer = client.post("/staff/segments/count", json=[1, 2])
    assert answer.status_code in (400, 422), answer.status_code
    for body in ({"tags": [{}]}, {"tags": ["x"]}, {"min_gifts": "9" * 40}, "text"):
        answer = client.post("/staff/segments/count", json=body)
        assert answer.status_code < 500, (body, answer.status_code)

    for name in ("gifts_min", "gifts_max", "total_min", "tags", "campaigns"):
        answer = client.post("/staff/segments/count", data={name: "9" * 40})
        assert answer.status_code == 422, (name, answer.status_code)

    user = factories.user(roles=("staff",))
    _row, token = ApiToken.issue(user)
    db.session.commit()
    slug = factories.campaign().slug
    auth = {"Authorization": f"Bearer {token}"}
    huge = 10**40
    for path, body, field in (
        ("/api/v1/segments", {"name": "a", "definition": {"tags": [huge]}}, "definition.tags.0"),
        ("/api/v1/segments", {"name": "b", "definition": {"gifts": {"min": huge}}}, None),
        ("/api/v1/segments", {"name": "c", "definition": {"campaigns": [2**31]}}, None),
        ("/api/v1/newsletters", {"organisation_id": huge, "title": "t", "versions": {}}, None),
        ("/api/v1/donors", {"email": ["x"]}, "email"),
    ):
        answer = client.post(path, json=body, headers=auth)
        assert answer.status_code == 422, (body, answer.status_code, answer.text)
        fields = [error["field"] for error in answer.json["errors"]]
        assert field is None or field in fields, fields
    for body in (
        {"pacts": [{}]},
        {"pacts": [None]},
        {"pacts": "x"},
        {"labs": [9 * 10**40]},
        {"goal_cents": "x"},
        {"goal_cents": 10**40},
        [],
    ):
        answer = client.patch(f"/api/v1/campaigns/{slug}", json=body, headers=auth)
        assert answer.status_code in (400, 422), (body, answer.status_code, answer.text)
        assert answer.mimetype == "application/problem+json"
