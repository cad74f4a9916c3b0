"""Snapshot tests of the Account view, the Users view and the Audit log at
80x24, with a fixed clock and data set.

Regenerate after a deliberate change: pytest tests/tui/test_snapshots_people.py --snapshot-update
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from store import accounts, blueprints, clock, marketplace, playbooks, settings, users
from store.catalog import CUSTOM_KEY
from store.db import Store
from tui.app import IntegrationsAdmin

FIXED = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
SIZE = (80, 24)


def _data(st: Store):
    """An account with a few people, blueprints, a playbook and settings, whose
    audit entries are one minute apart."""
    minute = iter(range(1000))

    def tick() -> None:
        clock.fix(FIXED - timedelta(days=2) + timedelta(minutes=next(minute)))

    tick()
    alice = accounts.sign_in(st, "alice", name="Alice Admin")
    for login, name, manage in [
        ("bob", "Bob Viewer", False),
        ("carol", "Carol Developer", True),
        ("dave", "Dave Ops", False),
    ]:
        tick()
        users.add(st, alice, login, name=name, can_manage=manage)
    tick()
    users.add(st, alice, "erin", name="Erin Owner", role="owner")
    tick()
    accounts.sign_in(st, "carol")
    tick()
    custom = marketplace.enable(st, alice, CUSTOM_KEY)
    tick()
    marketplace.enable(st, alice, "salesforce")
    tick()
    orders = blueprints.create(st, alice, custom, name="Order data", description="From the ERP")
    tick()
    blueprints.add_field(st, alice, orders.id, name="Order number", mapping_required=True)
    tick()
    pb = playbooks.create(st, alice, name="Sales agreement")
    tick()
    playbooks.connect(st, alice, pb.id, orders.id)
    for name in ("Customer", "Amount"):
        tick()
        playbooks.add_data_field(st, alice, pb.id, name=name)
    tick()
    settings.set_webhook_timeout(st, alice, 15)
    tick()
    users.set_permission(st, alice, "dave", True)
    tick()
    users.set_permission(st, alice, "dave", False)
    clock.fix(FIXED)
    return alice


@pytest.fixture
def st(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'snap.db'}")
    s.prepare()
    yield s
    s.dispose()


@pytest.fixture
def owner_app(st):
    alice = _data(st)
    return IntegrationsAdmin(st, accounts.sign_in(st, alice.login))


@pytest.fixture
def member_app(st):
    _data(st)
    return IntegrationsAdmin(st, accounts.sign_in(st, "bob"))


async def _settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_account_view(snap_compare, owner_app):
    assert snap_compare(owner_app, press=["o"], terminal_size=SIZE)


def test_account_view_read_only(snap_compare, member_app):
    assert snap_compare(member_app, press=["o"], terminal_size=SIZE)


def test_account_settings_form(snap_compare, owner_app):
    assert snap_compare(owner_app, press=["o", "e"], terminal_size=SIZE)


def test_users_view(snap_compare, owner_app):
    assert snap_compare(owner_app, press=["u"], terminal_size=SIZE)


def test_users_view_read_only(snap_compare, member_app):
    assert snap_compare(member_app, press=["u"], terminal_size=SIZE)


def test_add_user_form(snap_compare, owner_app):
    assert snap_compare(owner_app, press=["u", "n", *"frank"], terminal_size=SIZE)


def test_audit_log(snap_compare, owner_app):
    async def run_before(pilot) -> None:
        await pilot.press("a")
        await _settle(pilot)

    assert snap_compare(owner_app, run_before=run_before, terminal_size=SIZE)


def test_audit_log_filtered(snap_compare, owner_app):
    async def run_before(pilot) -> None:
        await pilot.press("a")
        await _settle(pilot)
        await pilot.press("slash", *"dave")
        await _settle(pilot)

    assert snap_compare(owner_app, run_before=run_before, terminal_size=SIZE)


def test_audit_entry(snap_compare, owner_app):
    async def run_before(pilot) -> None:
        await pilot.press("a")
        await _settle(pilot)
        await pilot.press("down", "down", "enter")
        await pilot.pause()

    assert snap_compare(owner_app, run_before=run_before, terminal_size=SIZE)


@pytest.mark.parametrize("key", ["o", "u"])
def test_wide(snap_compare, owner_app, key):
    assert snap_compare(owner_app, press=[key], terminal_size=(120, 36))


def test_audit_log_wide(snap_compare, owner_app):
    async def run_before(pilot) -> None:
        await pilot.press("a")
        await _settle(pilot)

    assert snap_compare(owner_app, run_before=run_before, terminal_size=(120, 36))
