"""Shared helpers for building and reading test data through the store (Pilot
helpers are in ``tests/ui.py``, fixtures in ``tests/conftest.py``, database dumps
and processes for the reliability tests in ``tests/reliability/``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, insert, select
from sqlmodel import SQLModel

from store import accounts, blueprints, clock, marketplace, playbooks, settings, webhooks
from store.accounts import Actor
from store.catalog import CUSTOM_KEY
from store.db import Store
from store.models import AuditEntry, BlueprintField, Delivery

T0 = datetime(2026, 1, 1, tzinfo=UTC)  # bulk_insert's first entry is a minute after


# -- refusals change nothing ----------------------------------------------------------


def snapshot(store: Store) -> dict[str, list]:
    """Every row of every table, to prove a refused call changed nothing."""
    out = {}
    with store.read() as s:
        for table in SQLModel.metadata.sorted_tables:
            rows = s.connection().execute(select(table)).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def refused(store, exc_type, fn, *args, match: str | None = None, **kwargs):
    """Call fn expecting exc_type, and prove the database is unchanged."""
    before = snapshot(store)
    with pytest.raises(exc_type, match=match) as info:
        fn(*args, **kwargs)
    assert snapshot(store) == before
    return info.value


# -- reading -------------------------------------------------------------------------------


def people(store, account_id):
    return [(u.login, u.role, u.can_manage) for u in accounts.list_users(store, account_id)]


def audit_count(store: Store) -> int:
    with store.read() as s:
        return int(s.exec(select(func.count()).select_from(AuditEntry)).one()[0])


# -- building ------------------------------------------------------------------------------


def custom_integration(store: Store, owner: Actor) -> int:
    return marketplace.enable(store, owner, "custom")


def make_blueprint(
    store: Store, owner: Actor, name: str, fields: list[tuple[str, bool]], integ: int | None = None
) -> tuple[int, dict[str, int]]:
    """A custom blueprint with fields (name, mapping required); returns its id and field ids."""
    integ = integ or custom_integration(store, owner)
    bp = blueprints.create(store, owner, integ, name=name)
    ids = {}
    for fname, req in fields:
        ids[fname] = blueprints.add_field(store, owner, bp.id, name=fname, mapping_required=req).id
    return bp.id, ids


def order_blueprint(store, owner, fields=(("Order number", True), ("Note", False))) -> int:
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    bp = blueprints.create(store, owner, iid, name="Order data")
    for name, req in fields:
        blueprints.add_field(store, owner, bp.id, name=name, mapping_required=req)
    return bp.id


def bulk_blueprint(store: Store, owner: Actor, name: str, n: int, prefix: str) -> int:
    """Setup only: a custom blueprint with ``n`` fields inserted in one transaction."""
    integ = custom_integration(store, owner)
    bp_id = blueprints.create(store, owner, integ, name=name).id
    with store.write(owner.account_id) as s:
        s.add_all(
            BlueprintField(
                blueprint_id=bp_id,
                name=f"{prefix} {i:02d}",
                description=f"{prefix} no. {i}",
                mapping_required=(i % 10 == 0),
                position=i,
                created_at=clock.now(),
            )
            for i in range(1, n + 1)
        )
    return bp_id


def hubspot_playbook(store, owner):
    """A playbook connected to HubSpot's blueprint with every required field mapped."""
    marketplace.enable(store, owner, "hubspot")
    [bp] = [b for b in blueprints.all_for_account(store, owner.account_id) if b.native]
    pb = playbooks.create(store, owner, name="Deals")
    playbooks.connect(store, owner, pb.id, bp.id)
    playbooks.create_data_fields_from_blueprint(store, owner, pb.id, bp.id)
    return pb.id, bp


def two_webhooks(store, owner) -> tuple[int, int]:
    custom = marketplace.enable(store, owner, "custom")
    settings.set_allow_private_webhooks(store, owner, True)
    first = webhooks.create(store, owner, custom, url="https://hooks.example.com/first").id
    second = webhooks.create(store, owner, custom, url="https://hooks.example.com/second").id
    return first, second


def log_deliveries(store, owner, hook: int, n: int, *, resend_of: int | None = None) -> list[int]:
    """Setup only: ``n`` logged deliveries of ``hook``; their ids, oldest first."""
    t0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    rows = [
        {
            "webhook_id": hook,
            "callback_id": f"{hook:04d}{i:036d}",
            "event_type": "contract:sign",
            "url": "https://hooks.example.com/x",
            "attempted_at": t0 + timedelta(minutes=i),
            "success": True,
            "status_code": 200,
            "latency_ms": 20,
            "error": None,
            "request_headers": "[]",
            "request_body": "{}",
            "response_excerpt": "",
            "resend_of_id": resend_of,
        }
        for i in range(n)
    ]
    with store.write(owner.account_id) as s:
        ids = [s.execute(insert(Delivery).returning(Delivery.id), [r]).scalar_one() for r in rows]
    return ids


def bulk_insert(store, account_id: int, n: int, *, start_id: int | None = None) -> None:
    """``n`` audit entries in a few multi-row INSERTs (seconds, not minutes).

    Entry i (1-based): actor carol every 1000th, else a rotating admin; action
    webhook.delete every 500th, else blueprint.create; one minute apart.
    """
    rows = []
    for i in range(1, n + 1):
        rows.append(
            {
                "account_id": account_id,
                "at": T0 + timedelta(minutes=i),
                "actor": "carol" if i % 1000 == 0 else f"admin{i % 7}",
                "action": "webhook.delete" if i % 500 == 0 else "blueprint.create",
                "object_type": "webhook" if i % 500 == 0 else "blueprint",
                "object_id": i,
                "object_name": f"Object {i}",
                "detail": f"entry {i}",
            }
        )
    with store.write() as s:
        for k in range(0, n, 10_000):
            s.execute(insert(AuditEntry), rows[k : k + 10_000])


# -- which thread reads the store ----------------------------------------------------


@dataclass
class Threads:
    on_ui: list[str] = field(default_factory=list)  # statements sent from the UI thread
    elsewhere: int = 0  # statements sent from other threads (workers, saves)

    def reset(self) -> None:
        self.on_ui.clear()
        self.elsewhere = 0


@contextmanager
def statements_by_thread(store) -> Iterator[Threads]:
    """Which thread sends each statement while the block runs: the UI thread
    (Textual's loop, the main thread: the screens' handlers) or another."""
    seen = Threads()

    def on_execute(_conn, _cursor, statement, *_args) -> None:
        if threading.current_thread() is not threading.main_thread():
            seen.elsewhere += 1
        else:
            seen.on_ui.append(" ".join(statement.split())[:120])

    # The read and write engines are the engine with options: its events are theirs.
    event.listen(store.engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", on_execute)
