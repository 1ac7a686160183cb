"""The app, its database, and real servers (SMTP, Chromium) for the tests."""

import os
import shutil
import socket
import threading
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text
from werkzeug.serving import make_server

from legami import create_app, jobs
from legami.extensions import db
from tests import factories
from tests.dbs import PG_URL, engine_name, fresh_database

CHROMIUM = os.environ.get("LEGAMI_CHROMIUM", "/usr/bin/chromium")


def pytest_report_header(config):
    return f"legami test database: {engine_name()}"


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="needs LEGAMI_TEST_DATABASE_URL (PostgreSQL)")
    for item in items:
        if "postgres" in item.keywords and not PG_URL:
            item.add_marker(skip_pg)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """One migrated database for the session; each test empties it afterwards."""
    with fresh_database(tmp_path_factory.mktemp("db")) as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url}, str(tmp_path_factory.mktemp("inst")))
        with app.app_context():
            upgrade()
            db.engine.dispose()
        yield url


def make_test_app(database_url: str, instance: Path, **config):
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "SMTP_URL": "",
        "BASE_URL": "http://localhost",
        "RATELIMIT_ENABLED": False,
        "PAGE_CACHE_SECONDS": 0,
        **config,
    }
    return create_app(settings, str(instance))


def _empty_tables() -> None:
    tables = [t.name for t in db.metadata.sorted_tables]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for name in reversed(tables):
            db.session.execute(text(f"DELETE FROM {name}"))
    db.session.commit()


@pytest.fixture
def app(database_url, tmp_path):
    app = make_test_app(database_url, tmp_path / "instance")
    with app.app_context():
        yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


class IsolatedClient(FlaskClient):
    """Each request gets its own app context, as in production.

    Otherwise requests reuse the test's context: `g` (and Flask-Login's cached user) and the
    database session would leak from one request to the next and hide missing commits.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture
def app_with(database_url, tmp_path):
    """app_with(**config) -> an app with other settings (CSRF, rate limits), in its context."""
    contexts = []

    def _make(**config):
        made = make_test_app(database_url, tmp_path / f"instance-{len(contexts)}", **config)
        made.test_client_class = IsolatedClient
        context = made.app_context()
        context.push()
        contexts.append(context)
        return made

    yield _make
    for context in reversed(contexts):
        db.session.remove()
        _empty_tables()
        db.engine.dispose()
        context.pop()


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def english(client):
    """The client's pages in English, for tests that read the wording (Italian is the default)."""
    with client.session_transaction() as session:
        session["lang"] = "en"


@pytest.fixture
def login(client):
    """login(*roles) -> a logged-in user holding those roles."""

    def _login(*roles, password="correct horse battery"):
        user = factories.user(roles=roles, password=password)
        response = client.post("/staff/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.text
        return user

    return _login


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(database_url, tmp_path):
    """The app served over real HTTP on loopback, CSRF on, for the browser tests, with a job
    worker thread as `legami run` embeds one."""
    port = free_port()
    app = make_test_app(
        database_url,
        tmp_path / "instance",
        WTF_CSRF_ENABLED=True,
        BASE_URL=f"http://127.0.0.1:{port}",
    )
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.app = app
    server.url = f"http://127.0.0.1:{port}"
    worker, stop_worker = jobs.start_thread(app, poll=0.2)
    yield server
    server.shutdown()
    stop_worker.set()
    worker.join(30)
    with app.app_context():
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module. Playwright's sync API keeps an event loop running in
    this thread while it lives, so asyncio.run (pyhanko's sealing) fails in later modules
    unless it stops with the module that used it."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def browser_log_in(page, base: str, email: str, password: str) -> None:
    """Log in on the staff login page as a person would."""
    page.goto(f"{base}/staff/login")
    page.fill("#email", email)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("main form.form button[type=submit]")
    assert "/staff/login" not in page.url, page.content()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="it-IT", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


class SmtpServer:
    """A real SMTP server (aiosmtpd) on loopback that keeps what it receives."""

    USER, PASSWORD = "legami", "smtp-secret"

    def __init__(self):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.logins: list[str] = []
        server = self

        class Handler:
            async def handle_DATA(self, smtp, session, envelope):
                server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                server.messages.append(
                    message_from_bytes(envelope.content, policy=email_policy.default)
                )
                return "250 OK"

        def authenticate(smtp, session, envelope, mechanism, auth_data):
            ok = (auth_data.login.decode(), auth_data.password.decode()) == (
                self.USER,
                self.PASSWORD,
            )
            if ok:
                self.logins.append(auth_data.login.decode())
            return AuthResult(success=ok, handled=False)

        self.host, self.port = "127.0.0.1", free_port()
        self.controller = Controller(
            Handler(),
            hostname=self.host,
            port=self.port,
            authenticator=authenticate,
            auth_require_tls=False,
        )
        self.controller.start()
        self.url = f"smtp://{self.USER}:{self.PASSWORD}@{self.host}:{self.port}"

    def stop(self):
        self.controller.stop()


@pytest.fixture
def smtp_server(app):
    """A running SMTP server, and the app configured to send through it."""
    server = SmtpServer()
    app.config["SMTP_URL"] = server.url
    yield server
    server.stop()


def deliver_queued(app) -> None:
    """Run the mail queue, as the scheduler would."""
    from mailing.queue import send_due

    with app.app_context():
        send_due()
