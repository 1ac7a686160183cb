"""Staff sessions end for real, sign-in tells nothing by its timing, pages are not cached,
rate limits warn when they are not shared, and any number of schedulers start at once."""

import logging
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import inspect
from werkzeug import security as werkzeug_security

from legami.extensions import db
from legami.models import User
from tests import factories
from tests.conftest import free_port, make_test_app
from tests.dbs import fresh_database

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
APP = "legami:create_app()"


def _log_in(client, email: str, password: str = PASSWORD):
    return client.post("/staff/login", data={"email": email, "password": password})


def _session_cookie(client) -> str:
    return client.get_cookie("session").value


def _with_cookie(app, cookie: str):
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def test_a_copied_cookie_stops_working_after_logout(app, client):
    user = factories.user(roles=("staff",))
    assert _log_in(client, user.email).status_code == 302
    copied = _session_cookie(client)
    thief = _with_cookie(app, copied)
    assert thief.get("/staff/donors").status_code == 200

    version = db.session.get(User, user.id).session_version
    client.post("/staff/logout")
    assert db.session.get(User, user.id).session_version == version + 1
    answer = thief.get("/staff/donors")
    assert answer.status_code == 302 and "/staff/login" in answer.headers["Location"]


def test_a_password_change_ends_the_other_sessions(app, client, smtp_server):
    user = factories.user(roles=("staff",))
    laptop = app.test_client()
    assert _log_in(laptop, user.email).status_code == 302
    assert laptop.get("/staff/").status_code == 200

    # From another browser, the reset link sets a new password and logs that browser in.
    client.post("/staff/password/forgot", data={"email": user.email})
    [mail] = smtp_server.messages
    [link] = re.findall(r"http://localhost(/staff/\S+)", mail.get_content())
    new = "a brand new long password"
    done = client.post(link, data={"password": new, "confirm": new})
    assert done.status_code == 302
    assert client.get("/staff/").status_code == 200

    assert laptop.get("/staff/").status_code == 302
    assert _log_in(app.test_client(), user.email, new).status_code == 302


def test_deactivation_ends_the_sessions_at_once(app, client, login):
    user = factories.user(roles=("staff",), email="leaving@example.org")
    theirs = app.test_client()
    assert _log_in(theirs, user.email).status_code == 302
    login("admin")
    assert client.post(f"/staff/users/{user.id}/active").status_code == 302
    assert db.session.get(User, user.id).active is False
    assert theirs.get("/staff/").status_code == 302
    # Reactivated, the old cookie still does not come back to life.
    assert client.post(f"/staff/users/{user.id}/active").status_code == 302
    assert theirs.get("/staff/").status_code == 302


@pytest.mark.parametrize("session_id", ["1", "1:x", "²:0", "99999999999999999999:0", ""])
def test_a_forged_session_id_is_anonymous(app, session_id):
    factories.user(roles=("admin",))
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    assert client.get("/staff/").status_code == 302


def _timed_login(client, email: str) -> float:
    start = time.perf_counter()
    answer = _log_in(client, email, "a wrong password")
    assert answer.status_code == 422
    return time.perf_counter() - start


def test_unknown_inactive_and_known_addresses_cost_one_hash_check_each(app, client, monkeypatch):
    known = factories.user(roles=("staff",), email="known@example.org")
    inactive = factories.user(roles=("staff",), email="inactive@example.org")
    inactive.active = False
    db.session.commit()
    checks = []
    real = werkzeug_security.check_password_hash

    def counting(pwhash, password):
        checks.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr("legami.accounts.check_password_hash", counting)
    monkeypatch.setattr("legami.models.check_password_hash", counting)

    times = {"known": [], "unknown": [], "inactive": []}
    emails = {"known": known.email, "unknown": "nobody@example.org", "inactive": inactive.email}
    for _round in range(3):
        for kind, email in emails.items():
            checks.clear()
            times[kind].append(_timed_login(client, email))
            assert len(checks) == 1, kind
            assert checks[0].startswith("scrypt:"), kind
    known_time = statistics.median(times["known"])
    for kind in ("unknown", "inactive"):
        # The same algorithm and cost; a shared machine makes times noisy, not halved.
        assert statistics.median(times[kind]) > known_time / 2, times


def test_per_account_limit_whatever_the_clients_address(app_with):
    app = app_with(RATELIMIT_ENABLED=True)
    user = factories.user(roles=("staff",), email="target@example.org")
    answers = []
    for n in range(6):
        # Each try from another address: the per-IP limit (10 a minute) never trips.
        client = app.test_client()
        environ = {"REMOTE_ADDR": f"198.51.100.{n + 1}"}
        answer = client.post(
            "/staff/login",
            data={"email": "Target@Example.org ", "password": "wrong"},
            environ_base=environ,
        )
        answers.append(answer.status_code)
    assert answers == [422] * 5 + [429]
    # Another account is not limited by it, from the same address.
    other = app.test_client().post(
        "/staff/login",
        data={"email": "other@example.org", "password": "wrong"},
        environ_base={"REMOTE_ADDR": "198.51.100.1"},
    )
    assert other.status_code == 422
    # The right password for the limited account waits too (no guessing through the limit).
    blocked = app.test_client().post(
        "/staff/login",
        data={"email": user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "198.51.100.50"},
    )
    assert blocked.status_code == 429


def test_successful_logins_do_not_use_up_the_account_limit(app_with):
    app = app_with(RATELIMIT_ENABLED=True)
    user = factories.user(roles=("staff",))
    for n in range(7):
        client = app.test_client()
        answer = client.post(
            "/staff/login",
            data={"email": user.email, "password": PASSWORD},
            environ_base={"REMOTE_ADDR": f"203.0.113.{n + 1}"},
        )
        assert answer.status_code == 302


def test_redis_storage_shares_the_limits_between_processes(app_with):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    redis.Redis.from_url(url).flushdb()
    first = app_with(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=url)
    second = app_with(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=url)
    factories.user(roles=("staff",), email="shared@example.org")
    answers = []
    for n in range(6):
        worker = first if n % 2 else second
        answer = worker.test_client().post(
            "/staff/login",
            data={"email": "shared@example.org", "password": "wrong"},
            environ_base={"REMOTE_ADDR": f"192.0.2.{n + 1}"},
        )
        answers.append(answer.status_code)
    redis.Redis.from_url(url).flushdb()
    assert answers == [422] * 5 + [429]


def test_personal_pages_are_never_stored(app, client, login):
    from donors.models import Donor

    login("admin")
    donor = factories.donor()
    for path in (
        "/staff/",
        "/staff/donors",
        f"/staff/donors/{donor.id}",
        f"/staff/donors/{donor.id}/gdpr-export",
        "/portal",
    ):
        answer = client.get(path)
        assert answer.status_code in (200, 302), path
        assert answer.headers["Cache-Control"] == "no-store", path
    assert db.session.get(Donor, donor.id) is not None
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")


def test_authenticated_api_answers_are_never_stored(app, client):
    from legami.models import ApiToken

    user = factories.user(roles=("staff",))
    _row, token = ApiToken.issue(user)
    db.session.commit()
    donors = client.get("/api/v1/donors", headers={"Authorization": f"Bearer {token}"})
    assert donors.status_code == 200
    assert donors.headers["Cache-Control"] == "no-store"
    public = client.get("/api/v1/campaigns")
    assert public.status_code == 200 and "no-store" not in public.headers.get("Cache-Control", "")


def test_memory_limits_with_several_workers_warn_loudly(app_with, caplog, monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    # Alembic's logging setup (the session's migration) disables the loggers it finds.
    monkeypatch.setattr(logging.getLogger("legami"), "disabled", False)
    with caplog.at_level("WARNING", logger="legami"):
        app_with(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    assert "RATE LIMITS ARE NOT SHARED: 4 worker processes" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="legami"):
        app_with(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15")
        monkeypatch.setenv("WEB_CONCURRENCY", "1")
        app_with(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    assert "RATE LIMITS" not in caplog.text


def _legami_env(url: str, instance: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "WEB_CONCURRENCY"}
    env.update(DATABASE_URL=url, LEGAMI_INSTANCE=str(instance), SECRET_KEY="x", **extra)
    return env


def test_gunicorn_with_four_workers_and_memory_limits_warns(tmp_path, database_url):
    env = _legami_env(database_url, tmp_path / "instance", RATELIMIT_STORAGE_URI="memory://")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", APP],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        seen = ""
        deadline = time.monotonic() + 60
        while "RATE LIMITS ARE NOT SHARED" not in seen and time.monotonic() < deadline:
            line = server.stderr.readline()
            if not line:
                break
            seen += line
        assert "RATE LIMITS ARE NOT SHARED: 2 worker processes" in seen, seen
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stderr.close()


def test_three_schedulers_start_at_once_on_a_fresh_database(tmp_path):
    with fresh_database(tmp_path) as url:
        app = make_test_app(url, tmp_path / "instance")
        with app.app_context():
            upgrade()
            db.engine.dispose()
        env = _legami_env(url, tmp_path / "instance", PYTHONUNBUFFERED="1")
        logs = [(tmp_path / f"out-{n}.txt", tmp_path / f"err-{n}.txt") for n in range(3)]
        schedulers = [
            subprocess.Popen(
                [str(Path(sys.executable).parent / "legami"), "scheduler"],
                cwd=ROOT,
                env=env,
                stdout=out.open("w"),
                stderr=err.open("w"),
            )
            for out, err in logs
        ]
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and not all(
                "Scheduler running" in out.read_text() for out, _err in logs
            ):
                time.sleep(0.5)
            time.sleep(5)  # the jobs that run at start (mail queue, newsletters) have run
            running = [process.poll() is None for process in schedulers]
        finally:
            for process in schedulers:
                process.terminate()
                process.wait(timeout=30)
        outputs = [(out.read_text(), err.read_text()) for out, err in logs]
        assert running == [True, True, True], outputs
        for out, err in outputs:
            assert "Scheduler running" in out
            assert "Traceback" not in err and "Error" not in err, err


def test_the_job_table_comes_from_the_migration(tmp_path):
    with fresh_database(tmp_path) as url:
        app = make_test_app(url, tmp_path / f"instance-{uuid.uuid4().hex[:6]}")
        with app.app_context():
            upgrade()
            assert "apscheduler_jobs" in inspect(db.engine).get_table_names()
            db.engine.dispose()
