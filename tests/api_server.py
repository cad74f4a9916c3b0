"""Real API servers on loopback for the API tests: uvicorn in a thread of the
test process (``ApiServer``, the test's clock and store shared), or the
``serve`` command as a subprocess (``ServeProcess``)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from api.app import create_app
from store import apiaccess
from store.db import Store

ROOT = Path(__file__).resolve().parents[1]


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def free_port() -> int:
    with free_socket() as sock:
        return sock.getsockname()[1]


class ApiServer:
    """uvicorn serving ``create_app(store)`` in a thread, on a free port."""

    def __init__(self, store: Store, **app_options) -> None:
        self.store = store
        self.app = create_app(store, log_interval_s=0.02, **app_options)
        self.sock = free_socket()
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="on", loop="asyncio"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> ApiServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the API server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()

    def flush_log(self) -> None:
        """Wait until the request log's writer has written what was queued."""
        log = self.app.state.request_log
        deadline = time.monotonic() + 10
        while not log._queue.empty() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)  # the batch taken off the queue is being written


def requests_logged(store: Store, caller, *, at_least: int = 1, timeout: float = 10) -> list:
    """The caller's integration's request log once it holds ``at_least`` entries."""
    deadline = time.monotonic() + timeout
    while True:
        found = apiaccess.requests_for_integration(
            store, caller.account_id, caller.integration_id, limit=10_000
        )
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


class ServeProcess:
    """``integrations-admin --db URL serve --port P`` as a subprocess."""

    def __init__(self, db_url: str, *extra: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [
            sys.executable,
            "-c",
            "import sys; from tui.cli import main; sys.exit(main())",
            "--db",
            db_url,
            "serve",
            "--port",
            str(self.port),
            *extra,
        ]
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> ServeProcess:
        self.proc = subprocess.Popen(
            self.args,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60  # two workers on a busy 2-core machine: slow
        while True:
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise RuntimeError(f"serve exited {self.proc.returncode}: {out}{err}")
            try:
                httpx.get(f"{self.url}/openapi.json", timeout=1)
                return self
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, str, str]:
        """Send ``sig`` (ctrl+c by default); (exit code, stdout, stderr)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=60)
        return self.proc.returncode, out, err

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            # ctrl+c first: a supervisor (--workers) killed outright leaves its workers.
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.communicate()
