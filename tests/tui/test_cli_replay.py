"""`integrations-admin deliveries replay --webhook ID --since TIME [--status ...]`,
the real command in a subprocess, on both backends (issue 17)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

from store import audit, clock, webhooks

from ..queue_world import queued, state_of


def run(store, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", "--db", store.url, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LOGNAME": "ops", "USER": "ops"},
    )


def test_replay_since_from_the_command_line(store, owner, custom):
    hook = webhooks.create(store, owner, custom, url="https://hooks.example.com/cli")
    aid = owner.account_id
    t0 = clock.now() - timedelta(hours=3)
    old = queued(
        store, aid, hook.id, "exhausted", attempts=10, last_attempt_at=t0 - timedelta(hours=1)
    )
    new = queued(
        store, aid, hook.id, "exhausted", attempts=10, last_attempt_at=t0 + timedelta(hours=1)
    )
    retrying = queued(
        store, aid, hook.id, "retrying", attempts=3, last_attempt_at=t0 + timedelta(hours=2)
    )
    since = f"{t0:%Y-%m-%dT%H:%M:%S}"

    done = run(
        store,
        "deliveries",
        "replay",
        "--webhook",
        str(hook.id),
        "--since",
        since,
        "--status",
        "exhausted",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"Webhook {hook.id} (https://hooks.example.com/cli): 1 delivery queued again.\n"
    )
    # Nothing has run a dispatcher here: the command says so.
    assert "No dispatcher is running: start `integrations-admin serve` or `dispatch`" in done.stderr
    assert state_of(store, new.id).state == "pending"
    assert state_of(store, new.id).callback_id == new.callback_id
    assert state_of(store, old.id).state == "exhausted"
    assert state_of(store, retrying.id).state == "retrying"

    # Again, every failed one: the replayed one already waits, the retrying one is due now.
    again = run(store, "deliveries", "replay", "--webhook", str(hook.id), "--since", since)
    assert again.returncode == 0, again.stderr
    assert again.stdout.endswith(": 1 delivery queued again.\n")
    assert state_of(store, retrying.id).next_attempt_at <= clock.now()
    entries = [e for e in audit.entries(store, aid) if e.action == "delivery.replay"]
    assert {e.actor for e in entries} == {"operator:ops"}


def test_replay_refusals_from_the_command_line(store, owner, custom):
    hook = webhooks.create(store, owner, custom, url="https://hooks.example.com/cli")
    bad = run(store, "deliveries", "replay", "--webhook", str(hook.id), "--since", "yesterday")
    assert bad.returncode == 2
    assert "--since 'yesterday' is not a date or time" in bad.stderr
    gone = run(store, "deliveries", "replay", "--webhook", "999", "--since", "2026-01-01")
    assert gone.returncode == 2 and "That webhook no longer exists." in gone.stderr
    status = run(
        store,
        "deliveries",
        "replay",
        "--webhook",
        str(hook.id),
        "--since",
        "2026-01-01",
        "--status",
        "delivered",
    )
    assert status.returncode == 2 and "invalid choice" in status.stderr
    webhooks.set_paused(store, owner, hook.id, True)
    paused = run(store, "deliveries", "replay", "--webhook", str(hook.id), "--since", "2026-01-01")
    assert paused.returncode == 2 and "paused: resume it first" in paused.stderr
