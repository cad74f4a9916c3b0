"""`integrations-admin trigger` (issue 18): a sample event through the real outbox
and a real dispatcher process to a real `listen` process on loopback, which
verifies both signatures; `--fail 2` makes the dispatcher retry twice, and
`trigger --wait` prints each attempt as it is made. The store's refusals (an
unknown type, a webhook that would not receive it, nothing to receive it)
change nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import func, select

from store import accounts, audit, contracts, dispatch, marketplace, settings, users, webhooks
from store import trigger as tr
from store.errors import NotFound, PermissionDenied, ValidationError
from store.models import Event, EventDelivery

from ..receivers import LISTEN_WAIT_S as WAIT_S
from ..receivers import Listen

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 1, tzinfo=UTC)
ENV = {**os.environ, "USER": "alice", "LOGNAME": "alice", "PYTHONUNBUFFERED": "1"}


def _cli(db: str, *args: str, timeout: float = WAIT_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", "--db", db, *args],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=ROOT,
        timeout=timeout,
    )


def _dispatcher(db: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--db", db, "dispatch", "--poll", "0.05"],
        env={**ENV, "INTEGRATIONS_ADMIN_RETRY_SCALE": "0.002"},  # retries in milliseconds
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _events(store) -> tuple[int, int]:
    with store.read() as s:
        return (
            s.exec(select(func.count()).select_from(Event)).one(),
            s.exec(select(func.count()).select_from(EventDelivery)).one(),
        )


@pytest.fixture
def custom(store, owner) -> int:
    iid = marketplace.enable(store, owner, "custom")
    settings.set_allow_private_webhooks(store, owner, True)
    return iid


def test_trigger_goes_through_the_dispatcher_to_listen_which_verifies_it(store, owner, custom):
    key = webhooks.generate_signing_key()
    hook = webhooks.create(store, owner, custom, url="http://127.0.0.1:9/x", sign_key=key)
    listen = Listen("--webhook", str(hook.id), "--fail", "2", db=store.url)
    dispatcher = _dispatcher(store.url)
    try:
        webhooks.update(store, owner, hook.id, url=listen.url)
        done = _cli(store.url, "trigger", "contract:sign", "--webhook", str(hook.id), "--wait")
        out = done.stdout.splitlines()
        assert done.returncode == 0, (done.stdout, done.stderr)
        # Queued, with its callback id; then the three attempts, as they were made.
        assert out[0].startswith("Queued contract:sign (event ")
        [callback] = [
            line.split("callback ")[1]
            for line in out[1:]
            if line.startswith("  webhook ") and "callback " in line
        ]
        attempts = [line for line in out if f"callback {callback}  HTTP" in line]
        assert [a.split("  ")[3].split(" ")[1] for a in attempts] == ["500", "500", "200"]
        assert attempts[-1].endswith(": delivered") and out[-1] == "Delivered."
        # listen verified all three (the same callback id: one delivery, retried).
        lines = [listen.next_line(callback) for _ in range(3)]
        assert all("contract:sign" in t and "  verified  " in t for t in lines)
        assert [t.rsplit("-> ", 1)[1] for t in lines] == ["500", "500", "200"]
        assert key not in done.stdout + done.stderr + "\n".join(listen.seen)
    finally:
        dispatcher.terminate()
        dispatcher.wait(timeout=30)
        listen.stop()
    entry = audit.entries(store, owner.account_id)[0]
    assert entry.action == "event.trigger" and f"webhook {hook.id}" in entry.detail
    assert key not in repr(entry)


def test_trigger_chooses_its_webhooks_and_puts_the_contract_in(store, owner, custom):
    a = webhooks.create(store, owner, custom, url="https://a.example.com/x")
    b = webhooks.create(store, owner, custom, url="https://b.example.com/x")
    only_publish = webhooks.create(
        store, owner, custom, url="https://c.example.com/x", event_types=["contract:publish"]
    )
    every = tr.trigger(store, owner, "contract:sign")
    assert [d.webhook_id for d in every.deliveries] == [a.id, b.id]  # c filters it out
    one = tr.trigger(store, owner, "contract:publish", webhook_id=only_publish.id)
    assert [d.webhook_id for d in one.deliveries] == [only_publish.id]
    by_name = tr.trigger(store, owner, "contract:publish", integration="custom integration")
    assert {d.webhook_id for d in by_name.deliveries} == {a.id, b.id, only_publish.id}
    # Each delivery its own callback id, and the event is the one the body names.
    ids = [d.callback_id for t in (every, one, by_name) for d in t.deliveries]
    assert len(set(ids)) == len(ids) == 6
    with store.read() as s:
        event = s.get(Event, one.event_id)
        assert event.type == "contract:publish" and json.loads(event.payload)["sample"] is True
    progress = dispatch.event_progress(store, owner.account_id, every.event_id)
    assert [d.state for d in progress.deliveries] == ["pending", "pending"]
    assert not progress.ended and progress.attempts == ()


def test_trigger_about_a_real_contract(store, owner):
    from .. import contracts_world

    world = contracts_world.build(store, owner)
    made = contracts.create(
        store, world.caller(store), playbook_id=world.playbook_id, name="A", values={"Amount": "1"}
    )
    webhooks.create(store, owner, world.integration_id, url="https://a.example.com/x")
    done = tr.trigger(store, owner, "contract:sign", contract_id=made.contract.id)
    assert done.contract_id == made.contract.id
    with store.read() as s:
        event = s.get(Event, done.event_id)
        assert event.contract_id == made.contract.id
        assert json.loads(event.payload)["contract"] == {"id": made.contract.id, "name": "A"}


@pytest.mark.parametrize(
    ("setup", "kwargs", "words"),
    [
        (None, {"event_type": "contract:sgn"}, "There is no event type 'contract:sgn'"),
        (None, {}, "No webhook of this account receives contract:sign now"),
        ("paused", {"webhook": True}, "is paused: resume it first"),
        ("filter", {"webhook": True}, "does not take contract:sign: its events are"),
        ("disabled", {"webhook": True}, "was disabled"),
        (None, {"webhook_id": 999}, "There is no webhook 999 in this account."),
        ("filter", {"integration": "Custom integration"}, "No webhook of Custom integration"),
        (None, {"integration": "nope"}, "No integration called 'nope'"),
        ("any", {"contract_id": 42}, "There is no contract 42 in this account."),
    ],
)
def test_a_refused_trigger_says_why_and_writes_nothing(store, owner, custom, setup, kwargs, words):
    hook = None
    if setup == "filter":
        hook = webhooks.create(
            store, owner, custom, url="https://a.example.com/x", event_types=["contract:publish"]
        )
    elif setup in ("paused", "disabled", "any"):
        hook = webhooks.create(store, owner, custom, url="https://a.example.com/x")
    if setup == "paused":
        webhooks.set_paused(store, owner, hook.id, True)
    if setup == "disabled":
        from .. import queue_world

        queue_world.disable(store, owner.account_id, hook.id, "5 exhausted in a row", since=T0)
    args = dict(kwargs)
    event_type = args.pop("event_type", "contract:sign")
    if args.pop("webhook", False):
        args["webhook_id"] = hook.id
    before = (_events(store), len(audit.entries(store, owner.account_id)))
    with pytest.raises((ValidationError, NotFound)) as refused:
        tr.trigger(store, owner, event_type, **args)
    assert words in str(refused.value)
    assert (_events(store), len(audit.entries(store, owner.account_id))) == before


def test_a_member_without_the_permission_cannot_trigger(store, owner, custom):
    webhooks.create(store, owner, custom, url="https://a.example.com/x")
    users.add(store, owner, "bob", name="Bob Viewer")
    bob = accounts.sign_in(store, "bob")
    with pytest.raises(PermissionDenied):
        tr.trigger(store, bob, "contract:sign")
    assert _events(store) == (0, 0)


def test_the_command_lists_the_types_and_refuses_an_unknown_one(tmp_path):
    listed = _cli(str(tmp_path / "none.db"), "trigger", "--list")
    assert listed.returncode == 0
    assert listed.stdout.split() == list(tr.PLATFORM_EVENTS)
    # Refused with the list, before any database is opened (this one does not exist).
    wrong = _cli(str(tmp_path / "none.db"), "trigger", "contract:sgn")
    assert wrong.returncode == 2
    assert "There is no event type 'contract:sgn'" in wrong.stderr
    assert "contract:sign" in wrong.stderr and not (tmp_path / "none.db").exists()
