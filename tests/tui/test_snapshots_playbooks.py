"""Snapshot tests of the Playbooks section at 80x24, with a fixed clock and data:
the list, each tab of a playbook page, the mapping picker and the disconnect
confirmation.

Regenerate after a deliberate change: pytest tests/tui/test_snapshots_playbooks.py --snapshot-update
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from store import accounts, blueprints, clock, marketplace, playbooks
from store.catalog import CUSTOM_KEY
from store.db import Store
from tui.app import IntegrationsAdmin

FIXED = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
SIZE = (80, 24)
# The list is by name: NDA, Sales agreement, Service agreement.
OPEN_SALES = ["p", "j", "enter"]


@pytest.fixture
def app(tmp_path):
    clock.fix(FIXED)
    st = Store(f"sqlite:///{tmp_path / 'snap.db'}")
    st.prepare()
    owner = accounts.sign_in(st, "alice", name="Alice Admin")
    custom = marketplace.enable(st, owner, CUSTOM_KEY)
    marketplace.enable(st, owner, "salesforce")
    orders = blueprints.create(
        st, owner, custom, name="Order data", description="Orders synced from the ERP"
    )
    fields = {}
    for name, desc, req in [
        ("Order number", "The ERP's order id", True),
        ("Customer number", "Customer id in the ERP", True),
        ("Delivery date", "Promised delivery date", False),
        ("Total amount", "Order total incl. VAT", False),
    ]:
        fields[name] = blueprints.add_field(
            st, owner, orders.id, name=name, description=desc, mapping_required=req
        ).id
    sf = next(b for b in blueprints.all_for_account(st, owner.account_id) if b.native)

    sales = playbooks.create(st, owner, name="Sales agreement", description="Standard sale")
    dfs = {}
    for name, desc, default in [
        ("Customer name", "Legal name of the customer", ""),
        ("Order reference", "Shown in the header", ""),
        ("Delivery date", "", ""),
        ("Amount", "Total to pay", "0"),
        ("Payment terms", "Days to pay", "30 days"),
    ]:
        dfs[name] = playbooks.add_data_field(
            st, owner, sales.id, name=name, description=desc, default_value=default
        ).id
    playbooks.connect(st, owner, sales.id, orders.id)
    playbooks.connect(st, owner, sales.id, sf.id)
    playbooks.set_mapping(st, owner, sales.id, fields["Order number"], dfs["Order reference"])
    playbooks.set_mapping(st, owner, sales.id, fields["Delivery date"], dfs["Delivery date"])
    playbooks.set_mapping(st, owner, sales.id, fields["Total amount"], dfs["Amount"])
    sf_fields = {f.name: f.id for f in blueprints.detail(st, owner.account_id, sf.id).fields}
    playbooks.set_mapping(st, owner, sales.id, sf_fields["Account name"], dfs["Customer name"])
    playbooks.set_mapping(st, owner, sales.id, sf_fields["Amount"], dfs["Amount"])

    nda = playbooks.create(st, owner, name="NDA", description="Mutual non-disclosure")
    for name in ("Counterparty", "Effective date"):
        playbooks.add_data_field(st, owner, nda.id, name=name)
    playbooks.create(st, owner, name="Service agreement")
    yield IntegrationsAdmin(st, owner)
    st.dispose()


def test_playbooks_list(snap_compare, app):
    assert snap_compare(app, press=["p"], terminal_size=SIZE)


def test_playbook_data_fields_tab(snap_compare, app):
    assert snap_compare(app, press=OPEN_SALES, terminal_size=SIZE)


def test_playbook_connections_tab(snap_compare, app):
    assert snap_compare(app, press=[*OPEN_SALES, "2"], terminal_size=SIZE)


def test_playbook_mappings_tab(snap_compare, app):
    assert snap_compare(app, press=[*OPEN_SALES, "3"], terminal_size=SIZE)


def test_mapping_picker(snap_compare, app):
    # Customer number (Order data) is required and missing: the second row.
    assert snap_compare(app, press=[*OPEN_SALES, "3", "j", "enter"], terminal_size=SIZE)


def test_disconnect_confirmation(snap_compare, app):
    assert snap_compare(app, press=[*OPEN_SALES, "2", "d"], terminal_size=SIZE)
