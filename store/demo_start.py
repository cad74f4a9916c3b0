"""What ``integrations-admin demo`` needs before its first paint, importable
without SQLAlchemy (like ``store.location``): the demo's constants and the
webhook receiver it starts on loopback. ``store.demo`` (which builds the
account, and loads SQLAlchemy) re-exports every name here."""

from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .values import Actor

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
"""The demo's fixed "now": every screen of the demo shows this time."""

OWNER = "maria"
RECEIVER_PORT = 47011
"""The loopback port the demo receiver prefers (a fixed port keeps screenshots
identical); when it is taken (another demo runs), the next free one of
``RECEIVER_PORTS``, then any free port."""
RECEIVER_PORTS = range(RECEIVER_PORT, RECEIVER_PORT + 8)

VARIANTS = ("full", "story")
"""``full``: the whole demo account (see ``store.demo``). ``story``: the
starting point of the scripted walk-through, without the Custom integration
(the script enables it and builds its blueprint, token, webhook and mapping
itself)."""


@dataclass(frozen=True)
class Demo:
    """What ``build`` made: the account and who is who."""

    account_id: int
    variant: str
    actors: dict[str, Actor]
    integrations: dict[str, int] = field(default_factory=dict)  # extension key -> id
    blueprints: dict[str, int] = field(default_factory=dict)  # name -> id
    playbooks: dict[str, int] = field(default_factory=dict)  # name -> id
    webhooks: dict[str, int] = field(default_factory=dict)  # url -> id

    @property
    def owner(self) -> Actor:
        return self.actors[OWNER]


# -- the receiver ------------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _ReceiverServer
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
        body = self.rfile.read(length)
        self.server.received.append((self.path, dict(self.headers.items()), body))
        gone = self.path.startswith("/gone")
        answer = b'{"gone": true}\n' if gone else b'{"received": true}\n'
        self.send_response(410 if gone else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    # Fixed answers, so a logged response reads the same on every run.
    def version_string(self) -> str:
        return "demo-receiver"

    def date_time_string(self, timestamp: float | None = None) -> str:
        return "Sat, 28 Nov 2026 09:30:00 GMT"

    def log_message(self, format: str, *args: object) -> None:
        pass  # the terminal belongs to the TUI


class _ReceiverServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    received: list[tuple[str, dict[str, str], bytes]]


class DemoReceiver:
    """A webhook receiver on loopback for the demo: answers 200 to every POST
    (410 Gone under ``/gone``) and keeps what it received (``received``)."""

    def __init__(self, port: int = RECEIVER_PORT, *, fallback: bool = True) -> None:
        # A few known ports before any: the demo keeps its account's template
        # for each of them (tui/demo.py), so a second demo starts quickly too.
        ports = [port]
        if fallback:
            ports += [p for p in RECEIVER_PORTS if p != port] + [0]
        for candidate in ports:
            try:
                server = _ReceiverServer(("127.0.0.1", candidate), _Handler)
                break
            except OSError:
                if candidate == ports[-1]:
                    raise
        server.received = []
        self._server = server
        self.port: int = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, name="demo-receiver", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def received(self) -> list[tuple[str, dict[str, str], bytes]]:
        return self._server.received

    def start(self) -> DemoReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> DemoReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
