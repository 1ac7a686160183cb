"""Every back-office route and API write checks roles; routes are found from the URL map,
so a new route without a role check fails here."""

import re

import pytest

from legami import create_app
from legami.extensions import db
from legami.models import ApiToken
from tests import factories

PUBLIC_STAFF_ENDPOINTS = {
    "auth.login",
    "auth.logout",
    "auth.forgot_password",
    "auth.reset_password",
    "auth.accept_invite",
}
SAMPLE_VALUES = {"int": "999999", "default": "sample", "any": None}


def _rules(prefix: str):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, "/tmp/legami-url-map")
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(prefix) and rule.endpoint not in PUBLIC_STAFF_ENDPOINTS:
            yield rule, app.view_functions[rule.endpoint]


def _url(rule) -> str:
    def fill(match):
        converter = match.group(1) or "default"
        if converter.startswith("any"):
            return converter[4:-1].split(",")[0].strip()
        return SAMPLE_VALUES.get(converter.split("(")[0], "sample")

    return re.sub(r"<(?:([^:>]+):)?[^>]+>", fill, rule.rule)


STAFF_RULES = [
    (r.rule, sorted(r.methods - {"HEAD", "OPTIONS"}), view) for r, view in _rules("/staff")
]
API_WRITE_RULES = [
    (r.rule, sorted(r.methods - {"HEAD", "OPTIONS", "GET"}), view)
    for r, view in _rules("/api/")
    if r.methods - {"HEAD", "OPTIONS", "GET"}
]
ROLES = ("admin", "staff", "treasurer")


def test_the_url_map_has_back_office_routes():
    assert len(STAFF_RULES) >= 20
    assert len(API_WRITE_RULES) >= 3


@pytest.mark.parametrize(("rule", "methods", "view"), STAFF_RULES, ids=[r[0] for r in STAFF_RULES])
def test_every_back_office_route_declares_roles(rule, methods, view):
    assert getattr(view, "required_roles", None), f"{rule} has no roles_required"
    assert "admin" in view.required_roles


def _make_rule_case(rule):
    for r, view in _rules("/staff"):
        if r.rule == rule:
            return r, view
    raise LookupError(rule)


@pytest.mark.parametrize(("rule", "methods", "view"), STAFF_RULES, ids=[r[0] for r in STAFF_RULES])
def test_back_office_access_by_role(client, rule, methods, view):
    """Anonymous -> login; a role not allowed -> 403; an allowed role gets past the check."""
    url = _url(_make_rule_case(rule)[0])
    for method in methods:
        response = client.open(url, method=method)
        assert response.status_code == 302, (method, url)
        assert "/staff/login" in response.headers["Location"]
    for role in ROLES:
        user = factories.user(roles=(role,), password="a long password")
        with client.session_transaction() as session:
            session.clear()
        client.post("/staff/login", data={"email": user.email, "password": "a long password"})
        for method in methods:
            status = client.open(url, method=method).status_code
            if role in view.required_roles:
                assert status != 403, (role, method, url)
                assert status in (200, 302, 400, 404, 422), (role, method, url, status)
            else:
                assert status == 403, (role, method, url, status)


@pytest.mark.parametrize(
    ("rule", "methods", "view"), API_WRITE_RULES, ids=[r[0] for r in API_WRITE_RULES]
)
def test_every_api_write_checks_the_token_and_role(client, rule, methods, view):
    assert getattr(view, "required_roles", None), f"{rule} has no token_required"
    url = _url(next(r for r, _ in _rules("/api/") if r.rule == rule))
    for method in methods:
        anonymous = client.open(url, method=method, json={})
        assert anonymous.status_code == 401
        assert anonymous.mimetype == "application/problem+json"
        assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
        bad = client.open(url, method=method, json={}, headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401
    for role in ROLES:
        _, token = ApiToken.issue(factories.user(roles=(role,)))
        db.session.commit()
        for method in methods:
            status = client.open(
                url, method=method, json={}, headers={"Authorization": f"Bearer {token}"}
            ).status_code
            if role in view.required_roles:
                assert status not in (401, 403), (role, method, url)
            else:
                assert status == 403, (role, method, url, status)


def test_a_revoked_token_or_deactivated_user_is_refused(client):
    user = factories.user(roles=("staff",))
    row, token = ApiToken.issue(user)
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/campaigns", json={}, headers=headers).status_code == 422
    user.active = False
    db.session.commit()
    assert client.post("/api/v1/campaigns", json={}, headers=headers).status_code == 401
    user.active = True
    row.revoked = True
    db.session.commit()
    assert client.post("/api/v1/campaigns", json={}, headers=headers).status_code == 401


def test_csrf_protects_the_forms(app_with):
    app = app_with(WTF_CSRF_ENABLED=True)
    user = factories.user(roles=("admin",), password="a long password")
    response = app.test_client().post(
        "/staff/login", data={"email": user.email, "password": "a long password"}
    )
    assert response.status_code == 400
    assert "Location" not in response.headers
