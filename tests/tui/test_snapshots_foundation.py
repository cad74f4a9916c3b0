"""Snapshot tests of the foundation's screens at 80x24, with a fixed clock and data.

Regenerate after a deliberate change:
    pytest tests/tui/test_snapshots_foundation.py --snapshot-update
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from store import accounts, blueprints, clock, marketplace
from store.catalog import CUSTOM_KEY
from store.db import Store
from tui.app import IntegrationsAdmin

FIXED = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)


@pytest.fixture
def app(tmp_path):
    clock.fix(FIXED)
    st = Store(f"sqlite:///{tmp_path / 'snap.db'}")
    st.prepare()
    owner = accounts.sign_in(st, "alice", name="Alice Admin")
    custom = marketplace.enable(st, owner, CUSTOM_KEY)
    marketplace.enable(st, owner, "salesforce")
    marketplace.enable(st, owner, "slack")
    orders = blueprints.create(
        st, owner, custom, name="Order data", description="Orders synced from the ERP"
    )
    for name, desc, req in [
        ("Order number", "The ERP's order id", True),
        ("Customer number", "Customer id in the ERP", True),
        ("Delivery date", "Promised delivery date", False),
        ("Total amount", "Order total incl. VAT", False),
    ]:
        blueprints.add_field(
            st, owner, orders.id, name=name, description=desc, mapping_required=req
        )
    blueprints.create(st, owner, custom, name="Customer master", description="CRM customers")
    yield IntegrationsAdmin(st, owner)
    st.dispose()


def test_integrations_list(snap_compare, app):
    assert snap_compare(app, terminal_size=(80, 24))


def test_marketplace(snap_compare, app):
    assert snap_compare(app, press=["m"], terminal_size=(80, 24))


def test_integration_details(snap_compare, app):
    # Custom integration is the last of the list (Marketplace order).
    assert snap_compare(app, press=["j", "j", "enter"], terminal_size=(80, 24))


def test_blueprints_tab(snap_compare, app):
    assert snap_compare(app, press=["j", "j", "enter", "2"], terminal_size=(80, 24))


def test_blueprint_page(snap_compare, app):
    assert snap_compare(
        app, press=["j", "j", "enter", "2", "down", "enter"], terminal_size=(80, 24)
    )


def test_native_blueprint_page(snap_compare, app):
    assert snap_compare(app, press=["enter", "2", "enter"], terminal_size=(80, 24))


def test_blueprint_form(snap_compare, app):
    assert snap_compare(
        app, press=["j", "j", "enter", "2", "n", *"Invoices"], terminal_size=(80, 24)
    )


def test_blueprint_form_error(snap_compare, app):
    assert snap_compare(app, press=["j", "j", "enter", "2", "n", "ctrl+s"], terminal_size=(80, 24))


def test_field_form(snap_compare, app):
    assert snap_compare(
        app, press=["j", "j", "enter", "2", "down", "enter", "n"], terminal_size=(80, 24)
    )


def test_extension_card(snap_compare, app):
    assert snap_compare(app, press=["m", "enter"], terminal_size=(80, 24))


def test_help(snap_compare, app):
    assert snap_compare(
        app, press=["j", "j", "enter", "2", "question_mark"], terminal_size=(80, 24)
    )
