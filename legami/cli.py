"""The `legami` command: Flask's (run, db, routes) plus users, tokens and demo data."""

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from legami import accounts
from legami.extensions import db
from legami.models import ApiToken, Role


def _create_app():
    from legami import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, help="Legami: community fundraising for pacts and labs.")


@click.group("users", help="Staff users.")
def users_cli():
    pass


@users_cli.command("create")
@click.argument("email")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="Repeat for several roles.",
)
@click.option("--name", default="")
@click.password_option(help="Asked for when not given.")
@with_appcontext
def create_user(email, roles, name, password):
    """Create a staff user with a password."""
    try:
        user = accounts.create_user(email, roles, password=password, name=name)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Created {user.email} ({', '.join(sorted(user.role_names))}).")


@click.group("tokens", help="API bearer tokens.")
def tokens_cli():
    pass


@tokens_cli.command("create")
@click.argument("email")
@click.option("--name", default="", help="What the token is for.")
@with_appcontext
def create_token(email, name):
    """Create an API token for a staff user; it is printed once, only its hash is kept."""
    user = accounts.find_user(email)
    if user is None or not user.is_active:
        raise click.ClickException(f"no active user {email}")
    _, token = ApiToken.issue(user, name)
    db.session.commit()
    click.echo(token)


@click.command("demo")
@with_appcontext
def demo():
    """Bring the database up to date and load the demo network (idempotent)."""
    from flask_migrate import upgrade

    upgrade()
    for load in current_app.extensions.get("legami.demo", []):
        load()
    db.session.commit()
    base = current_app.config["BASE_URL"]
    click.echo(f"Demo data ready. Start with `legami run`, then open {base}/")
    click.echo(f"Staff login: {base}/staff/login  {DEMO_EMAIL} / {DEMO_PASSWORD}")


DEMO_EMAIL = "admin@legami.example"
DEMO_PASSWORD = "legami-demo"


def add_demo(app, loader) -> None:
    """A package's demo loader; loaders run in package order and must be idempotent."""
    app.extensions.setdefault("legami.demo", []).append(loader)


def init_app(app) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(demo)
    add_demo(app, load_demo_staff)
    from legami.demo import load_organisations

    add_demo(app, load_organisations)


def load_demo_staff() -> None:
    if accounts.find_user(DEMO_EMAIL) is None:
        accounts.create_user(
            DEMO_EMAIL,
            [Role.ADMIN, Role.STAFF, Role.TREASURER],
            password=DEMO_PASSWORD,
            name="Demo",
        )
