"""What ``integrations-admin demo`` needs before its first paint, importable
without SQLAlchemy (like ``store.location``): the demo's constants and the
webhook receiver it starts on loopback. ``store.demo`` (which builds the
account, and loads SQLAlchemy) re-exports every name here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from . import receiver
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


class DemoReceiver(receiver.Receiver):
    """The ``listen`` receiver (``store.receiver``) on loopback for the demo:
    answers 200 to every POST (410 Gone under ``/gone``), prints nothing (the
    terminal belongs to the TUI), keeps what it received (``received``), and
    answers with fixed headers so a logged response reads the same every run."""

    server_name = "demo-receiver"
    fixed_date = "Sat, 28 Nov 2026 09:30:00 GMT"

    def __init__(self, port: int = RECEIVER_PORT, *, fallback: bool = True) -> None:
        # A few known ports before any: the demo keeps its account's template
        # for each of them (tui/demo.py), so a second demo starts quickly too.
        ports = [port]
        if fallback:
            ports += [p for p in RECEIVER_PORTS if p != port] + [0]
        for candidate in ports:
            try:
                super().__init__(candidate)
                return
            except OSError:
                if candidate == ports[-1]:
                    raise

    def fixed_answer(self, path: str) -> tuple[int, bytes, str]:
        if path.startswith("/gone"):
            return 410, b'{"gone": true}\n', "application/json"
        return super().fixed_answer(path)

    def __enter__(self) -> DemoReceiver:
        self.start()
        return self
