"""The `legami` command: Flask's (run, db, routes) plus users, tokens and demo data."""

import click
from flask import current_app
from flask.cli import FlaskGroup, routes_command, shell_command, with_appcontext

from legami import accounts
from legami.extensions import db
from legami.models import ApiToken, Role


def _create_app():
    from legami import create_app

    return create_app()


main = FlaskGroup(
    create_app=_create_app,
    add_default_commands=False,
    help="Legami: community fundraising for pacts and labs.",
)
main.add_command(routes_command)
main.add_command(shell_command)


@main.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--no-scheduler", is_flag=True, help="Do not run the background jobs here.")
@click.option("--no-worker", is_flag=True, help="Do not run a job worker here.")
@with_appcontext
def run(host, port, no_scheduler, no_worker):
    """Serve Legami on one machine, with its background jobs (mail, newsletters) and a job
    worker (imports, annual receipts) embedded."""
    from werkzeug.serving import run_simple

    from legami import jobs, scheduler

    app = current_app._get_current_object()
    if not no_scheduler:
        scheduler.build(app, blocking=False).start()
    if not no_worker:
        jobs.start_thread(app)
    click.echo(f"Legami is running at http://{host}:{port}/ (Ctrl+C stops it)")
    run_simple(host, port, app, threaded=True)


@main.command("scheduler")
@with_appcontext
def scheduler_command():
    """Run the background jobs in this process (one per installation)."""
    from legami import scheduler

    app = current_app._get_current_object()
    jobs = ", ".join(job[0] for job in app.extensions.get("legami.jobs", []))
    click.echo(f"Scheduler running: {jobs}")
    scheduler.build(app, blocking=True).start()


@click.command("worker")
@click.option("--once", is_flag=True, help="Run the jobs due now, then stop.")
@click.option(
    "--poll",
    default=5.0,
    show_default=True,
    help="Seconds between looks for jobs (PostgreSQL also wakes the worker at once).",
)
@click.option(
    "--kind",
    "only",
    multiple=True,
    help="Run only jobs of this kind (repeat for several); by default every kind.",
)
@with_appcontext
def worker_command(once, poll, only):
    """Run jobs (imports, annual receipts); any number of these, on any machine. SIGTERM
    stops it after the job in hand."""
    from legami import jobs

    app = current_app._get_current_object()
    unknown = set(only) - set(jobs.kinds(app))
    if unknown:
        raise click.BadParameter(f"no job kind {', '.join(sorted(unknown))}", param_hint="--kind")
    only = list(only) or None
    if once:
        click.echo(f"{jobs.run_due_jobs(only)} jobs run.")
        return
    click.echo(f"Worker running: {', '.join(only or jobs.kinds(app)) or 'no job kinds'}", err=True)
    jobs.serve(app, poll, only)


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
    app.cli.add_command(worker_command)
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
