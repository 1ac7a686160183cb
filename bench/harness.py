"""Shared parts of the benchmarks: a temporary Legami under gunicorn, and a loopback load.

Every benchmark compares against a bare Flask route served by the same gunicorn, app and
middleware, so the ratio measures Legami's own work, not the machine.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def instance(extra_env: dict | None = None):
    """A temporary instance folder and the environment that points Legami at it."""
    with tempfile.TemporaryDirectory(prefix="legami-bench-") as folder:
        env = {**os.environ, "LEGAMI_INSTANCE": folder, **(extra_env or {})}
        env.setdefault("DATABASE_URL", f"sqlite:///{folder}/bench.sqlite")
        yield folder, env


@contextmanager
def gunicorn(env: dict, workers: int = 2):
    """`bench.app:create()` (Legami plus /bench/bare) under gunicorn on a free port."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "bench.app:create()",
        ],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/bench/bare", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            # A worker stuck in a request would hold the graceful stop; never leave it behind.
            process.kill()
            process.wait()


def _send(request: urllib.request.Request) -> int:
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def load(
    requests: list[urllib.request.Request], concurrency: int = 8, timeout: float | None = None
) -> tuple[float, list[int]]:
    """Send all requests from `concurrency` threads; returns (requests per second, statuses).

    Raises TimeoutError when they are not all answered within `timeout` seconds.
    """
    started = time.perf_counter()
    pool = ThreadPoolExecutor(concurrency)
    try:
        statuses = list(pool.map(_send, requests, timeout=timeout))
    finally:
        # After a timeout, drop the requests not yet sent instead of waiting for them all.
        pool.shutdown(cancel_futures=True)
    return len(requests) / (time.perf_counter() - started), statuses


def get(url: str, count: int) -> list[urllib.request.Request]:
    return [urllib.request.Request(url) for _ in range(count)]
