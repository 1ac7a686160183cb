"""The `legami` commands: demo data (idempotent), users and tokens."""

from sqlalchemy import func, select, text

from campaigns.models import Campaign, Lab, Pact, Update
from legami.extensions import db
from legami.models import ApiToken, Organisation, User


def _snapshot() -> dict:
    tables = [t.name for t in db.metadata.sorted_tables]
    return {
        name: db.session.execute(text(f"SELECT * FROM {name} ORDER BY 1")).all() for name in tables
    }


def test_demo_loads_a_network_and_running_twice_changes_nothing(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "admin@legami.example / legami-demo" in result.output
    assert "http://localhost/" in result.output
    counts = {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Organisation, Pact, Lab, Campaign, User)
    }
    # Two staff: the demo ledger's expenses are recorded by one and approved by the other.
    assert counts == {"Organisation": 3, "Pact": 4, "Lab": 3, "Campaign": 4, "User": 2}
    statuses = sorted(db.session.scalars(select(Campaign.status)))
    assert statuses == ["draft", "ended", "live", "live"]
    assert db.session.scalar(select(func.count()).select_from(Update)) >= 3
    assert all(db.session.scalars(select(Campaign.cover)))
    before = _snapshot()
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0, again.output
    db.session.expire_all()
    assert _snapshot() == before


def test_demo_public_pages_render(app, client):
    app.test_cli_runner().invoke(args=["demo"])
    for slug in db.session.scalars(select(Pact.slug)):
        page = client.get(f"/patti/{slug}")
        assert page.status_code == 200
    assert client.get("/campagne/casa-e-orto-cambonino").status_code == 200


def test_users_create_and_tokens_create(app, client):
    runner = app.test_cli_runner()
    made = runner.invoke(
        args=[
            "users",
            "create",
            "Tesoriera@Example.org",
            "--role",
            "treasurer",
            "--role",
            "staff",
            "--password",
            "una password lunga",
        ]
    )
    assert made.exit_code == 0, made.output
    user = db.session.scalar(select(User))
    assert user.email == "tesoriera@example.org"
    assert user.role_names == {"treasurer", "staff"}
    assert user.check_password("una password lunga")
    duplicate = runner.invoke(
        args=["users", "create", "tesoriera@example.org", "--role", "staff", "--password", "x"]
    )
    assert duplicate.exit_code != 0 and "exists" in duplicate.output
    bad_role = runner.invoke(
        args=["users", "create", "a@b.it", "--role", "boss", "--password", "x"]
    )
    assert bad_role.exit_code != 0

    token = runner.invoke(args=["tokens", "create", "tesoriera@example.org"]).output.strip()
    assert token.startswith("lgm_")
    row = db.session.scalar(select(ApiToken))
    assert row.token_hash == ApiToken.hash(token) and token not in row.token_hash
    response = client.post(
        "/api/v1/campaigns", json={}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 422  # authenticated and allowed; the body is what is wrong
    assert runner.invoke(args=["tokens", "create", "nobody@example.org"]).exit_code != 0
