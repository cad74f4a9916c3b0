"""Playbooks: data fields, connected blueprints, mappings, completeness, limits.

Every test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from store import accounts, audit, blueprints, clock, marketplace, playbooks
from store.accounts import Actor
from store.db import Store
from store.errors import (
    Conflict,
    LimitReached,
    NotFound,
    PermissionDenied,
    PlanRequired,
    ValidationError,
)
from store.models import (
    Account,
    Blueprint,
    BlueprintField,
    DataField,
    Integration,
    Mapping,
    Playbook,
    PlaybookBlueprint,
)

from ..helpers import audit_count, bulk_blueprint, make_blueprint

# -- helpers ---------------------------------------------------------------------


def bulk_data_fields(store: Store, owner: Actor, playbook_id: int, n: int) -> None:
    """Setup only: ``n`` data fields inserted in one transaction."""
    with store.write(owner.account_id) as s:
        s.add_all(
            DataField(
                playbook_id=playbook_id, name=f"Bulk {i:03d}", position=i, created_at=clock.now()
            )
            for i in range(1, n + 1)
        )


def count(store: Store, model, *where) -> int:
    with store.read() as s:
        return int(s.exec(select(func.count()).select_from(model).where(*where)).one()[0])


def audit_actions(store: Store, owner: Actor) -> list[str]:
    return [e.action for e in audit.entries(store, owner.account_id)]


@contextmanager
def count_selects(store: Store) -> Iterator[list[str]]:
    seen: list[str] = []

    def hook(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", hook)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", hook)


@pytest.fixture
def pb(store, owner) -> playbooks.PlaybookInfo:
    return playbooks.create(store, owner, name="Sales contract", description="For deals")


# -- playbooks -------------------------------------------------------------------


def test_create_playbook_returns_counts_and_audits(store, owner):
    info = playbooks.create(store, owner, name="  Sales contract ", description=" Deals ")
    assert info.name == "Sales contract"
    assert info.description == "Deals"
    assert info.created_by == "alice"
    assert (info.data_field_count, info.connected_count, info.missing_required_count) == (0, 0, 0)
    assert (info.limit_data_fields, info.limit_connected_blueprints) == (300, 5)
    assert info.complete
    assert playbooks.all_for_account(store, owner.account_id) == [info]
    assert playbooks.get(store, owner.account_id, info.id) == info
    entry = audit.entries(store, owner.account_id)[0]
    assert (entry.action, entry.object_type, entry.object_id, entry.object_name) == (
        "playbook.create",
        "playbook",
        info.id,
        "Sales contract",
    )


def test_playbook_names_unique_case_insensitive(store, owner, pb):
    before = audit_count(store)
    with pytest.raises(ValidationError) as e:
        playbooks.create(store, owner, name="SALES CONTRACT")
    assert e.value.field == "name"
    assert "already exists" in e.value.message and "SALES CONTRACT" in e.value.message
    assert count(store, Playbook) == 1
    assert audit_count(store) == before


def test_playbook_name_validated(store, owner):
    with pytest.raises(ValidationError) as e:
        playbooks.create(store, owner, name="   ")
    assert e.value.field == "name" and "required" in e.value.message
    with pytest.raises(ValidationError) as e:
        playbooks.create(store, owner, name="x" * 101)
    assert "101 characters" in e.value.message
    assert count(store, Playbook) == 0


def test_member_cannot_change_playbooks(store, owner, member, pb):
    with pytest.raises(PermissionDenied) as e:
        playbooks.create(store, member, name="Other")
    assert "Manage add-ons and integrations" in e.value.message
    with pytest.raises(PermissionDenied):
        playbooks.add_data_field(store, member, pb.id, name="X")
    with pytest.raises(PermissionDenied):
        playbooks.delete(store, member, pb.id)
    assert count(store, Playbook) == 1 and count(store, DataField) == 0
    # Reading is open to everyone.
    assert playbooks.all_for_account(store, member.account_id)[0].name == "Sales contract"


def test_free_plan_refused_naming_the_plan(store, owner, pb):
    accounts.set_plan_and_limits(store, owner.account_id, operator="ops", plan="Free")
    before = audit_count(store)
    with pytest.raises(PlanRequired) as e:
        playbooks.create(store, owner, name="Other")
    assert e.value.plan == "Essentials"
    assert "Essentials plan" in e.value.message and "on Free" in e.value.message
    with pytest.raises(PlanRequired):
        playbooks.add_data_field(store, owner, pb.id, name="X")
    assert count(store, Playbook) == 1 and count(store, DataField) == 0
    assert audit_count(store) == before
    # Cleaning up stays possible on Free.
    playbooks.delete(store, owner, pb.id)
    assert count(store, Playbook) == 0


def test_essentials_plan_is_enough(store, owner):
    accounts.set_plan_and_limits(store, owner.account_id, operator="ops", plan="Essentials")
    assert playbooks.create(store, owner, name="P").name == "P"


def test_101st_playbook_refused_at_default_limit(store, owner):
    with store.write(owner.account_id) as s:  # setup: 99 playbooks in one go
        s.add_all(
            Playbook(
                account_id=owner.account_id,
                name=f"P{i:03d}",
                created_at=clock.now(),
                created_by="alice",
            )
            for i in range(99)
        )
    playbooks.create(store, owner, name="The hundredth")
    before = audit_count(store)
    with pytest.raises(LimitReached) as e:
        playbooks.create(store, owner, name="One too many")
    assert e.value.limit == 100
    assert "100 of 100 playbooks" in e.value.message
    assert count(store, Playbook) == 100
    assert audit_count(store) == before


def test_playbook_limit_lowered_by_operator(store, owner):
    accounts.set_plan_and_limits(store, owner.account_id, operator="ops", limits={"playbooks": 2})
    playbooks.create(store, owner, name="A")
    playbooks.create(store, owner, name="B")
    with pytest.raises(LimitReached) as e:
        playbooks.create(store, owner, name="C")
    assert "2 of 2 playbooks" in e.value.message
    assert [p.name for p in playbooks.all_for_account(store, owner.account_id)] == ["A", "B"]


def test_playbook_limit_holds_under_concurrency(store, owner):
    accounts.set_plan_and_limits(store, owner.account_id, operator="ops", limits={"playbooks": 1})
    barrier = threading.Barrier(4)
    results: list[object] = []

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            results.append(playbooks.create(store, owner, name=f"Racer {i}"))
        except LimitReached as exc:
            results.append(exc)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(isinstance(r, playbooks.PlaybookInfo) for r in results) == 1
    assert sum(isinstance(r, LimitReached) for r in results) == 3
    assert count(store, Playbook) == 1


def test_update_playbook(store, owner, pb):
    other = playbooks.create(store, owner, name="Other")
    info = playbooks.update(store, owner, pb.id, name="Renamed", description="New", version=1)
    assert (info.name, info.description, info.version) == ("Renamed", "New", 2)
    # Someone else's editor still holds version 1.
    with pytest.raises(Conflict) as e:
        playbooks.update(store, owner, pb.id, name="Stale", version=1)
    assert "changed by someone else" in e.value.message
    assert playbooks.get(store, owner.account_id, pb.id).name == "Renamed"
    with pytest.raises(ValidationError) as e:
        playbooks.update(store, owner, other.id, name="renamed")
    assert e.value.field == "name"
    assert playbooks.get(store, owner.account_id, other.id).name == "Other"
    entry = audit.entries(store, owner.account_id)[0]
    assert entry.action == "playbook.update" and "renamed from 'Sales contract'" in entry.detail


def test_delete_playbook_removes_everything_below_it(store, owner, pb):
    bp_id, f = make_blueprint(store, owner, "CRM", [("Customer", True)])
    df = playbooks.add_data_field(store, owner, pb.id, name="Customer")
    playbooks.connect(store, owner, pb.id, bp_id)
    playbooks.set_mapping(store, owner, pb.id, f["Customer"], df.id)
    playbooks.delete(store, owner, pb.id)
    assert count(store, Playbook) == 0
    assert count(store, DataField) == 0
    assert count(store, PlaybookBlueprint) == 0
    assert count(store, Mapping) == 0
    entry = audit.entries(store, owner.account_id)[0]
    assert (entry.action, entry.object_name) == ("playbook.delete", "Sales contract")
    assert "1 data field, 1 connected blueprint and 1 mapping" in entry.detail
    with pytest.raises(NotFound):
        playbooks.detail(store, owner.account_id, pb.id)
    # The blueprint is free again.
    blueprints.delete(store, owner, bp_id)


# -- data fields -----------------------------------------------------------------


def test_add_data_fields(store, owner, pb):
    a = playbooks.add_data_field(
        store, owner, pb.id, name=" Customer ", description="Who signs", default_value="ACME"
    )
    b = playbooks.add_data_field(store, owner, pb.id, name="Amount")
    assert (a.name, a.description, a.default_value, a.version) == (
        "Customer",
        "Who signs",
        "ACME",
        1,
    )
    assert b.position > a.position
    d = playbooks.detail(store, owner.account_id, pb.id)
    assert [f.name for f in d.data_fields] == ["Customer", "Amount"]
    assert d.playbook.data_field_count == 2
    entry = audit.entries(store, owner.account_id)[0]
    assert (entry.action, entry.object_name) == ("data_field.create", "Sales contract / Amount")


def test_data_field_names_unique_in_playbook_only(store, owner, pb):
    playbooks.add_data_field(store, owner, pb.id, name="Customer")
    with pytest.raises(ValidationError) as e:
        playbooks.add_data_field(store, owner, pb.id, name="customer")
    assert e.value.field == "name" and "already has a data field named 'customer'" in str(e.value)
    other = playbooks.create(store, owner, name="Other")
    playbooks.add_data_field(store, owner, other.id, name="Customer")
    assert count(store, DataField) == 2


def test_data_field_default_value_validated(store, owner, pb):
    with pytest.raises(ValidationError) as e:
        playbooks.add_data_field(store, owner, pb.id, name="X", default_value="a\x00b")
    assert e.value.field == "default_value"
    assert count(store, DataField) == 0


def test_301st_data_field_refused_at_default_limit(store, owner, pb):
    bulk_data_fields(store, owner, pb.id, 299)
    playbooks.add_data_field(store, owner, pb.id, name="The 300th")
    before = audit_count(store)
    with pytest.raises(LimitReached) as e:
        playbooks.add_data_field(store, owner, pb.id, name="The 301st")
    assert e.value.limit == 300
    assert "300 of 300 data fields" in e.value.message and "Sales contract" in e.value.message
    assert count(store, DataField) == 300
    assert audit_count(store) == before
    assert playbooks.get(store, owner.account_id, pb.id).data_field_count == 300


def test_data_field_limit_is_per_playbook(store, owner, pb):
    accounts.set_plan_and_limits(store, owner.account_id, operator="ops", limits={"data_fields": 2})
    playbooks.add_data_field(store, owner, pb.id, name="A")
    playbooks.add_data_field(store, owner, pb.id, name="B")
    with pytest.raises(LimitReached) as e:
        playbooks.add_data_field(store, owner, pb.id, name="C")
    assert "2 of 2 data fields" in e.value.message
    other = playbooks.create(store, owner, name="Other")
    playbooks.add_data_field(store, owner, other.id, name="C")
    assert count(store, DataField, DataField.playbook_id == pb.id) == 2


def test_update_data_field_with_version(store, owner, pb):
    df = playbooks.add_data_field(store, owner, pb.id, name="Customer")
    playbooks.add_data_field(store, owner, pb.id, name="Amount")
    new = playbooks.update_data_field(
        store, owner, df.id, name="Client", description="d", default_value="v", version=df.version
    )
    assert (new.name, new.description, new.default_value, new.version) == ("Client", "d", "v", 2)
    # Someone else's editor still holds version 1.
    with pytest.raises(Conflict) as e:
        playbooks.update_data_field(store, owner, df.id, name="Stale", version=1)
    assert "changed by someone else" in e.value.message
    with pytest.raises(ValidationError) as e:
        playbooks.update_data_field(store, owner, df.id, name="AMOUNT")
    assert e.value.field == "name"
    d = playbooks.detail(store, owner.account_id, pb.id)
    assert [f.name for f in d.data_fields] == ["Client", "Amount"]
    assert d.data_fields[0].version == 2
    entry = audit.entries(store, owner.account_id)[0]
    assert entry.action == "data_field.update" and "renamed from 'Customer'" in entry.detail


def test_delete_data_field_removes_its_mappings(store, owner, pb):
    bp1, f1 = make_blueprint(store, owner, "CRM", [("Customer", True)])
    bp2, f2 = make_blueprint(store, owner, "ERP", [("Client", False)])
    df = playbooks.add_data_field(store, owner, pb.id, name="Customer")
    for bp in (bp1, bp2):
        playbooks.connect(store, owner, pb.id, bp)
    playbooks.set_mapping(store, owner, pb.id, f1["Customer"], df.id)
    playbooks.set_mapping(store, owner, pb.id, f2["Client"], df.id)
    assert playbooks.data_field_mappings_count(store, df.id) == 2
    with pytest.raises(Conflict) as e:
        playbooks.delete_data_field(store, owner, df.id, expected_mappings=1)
    assert "2 mappings, not 1" in e.value.message
    assert count(store, DataField) == 1
    assert playbooks.delete_data_field(store, owner, df.id, expected_mappings=2) == 2
    assert count(store, DataField) == 0 and count(store, Mapping) == 0
    entry = audit.entries(store, owner.account_id)[0]
    assert entry.action == "data_field.delete" and entry.detail == "2 mappings removed"
    assert not playbooks.completeness(store, owner.account_id, pb.id).complete
    with pytest.raises(NotFound):
        playbooks.delete_data_field(store, owner, df.id)


# -- connections -----------------------------------------------------------------


def test_connect_blueprint(store, owner, pb):
    bp_id, _ = make_blueprint(store, owner, "CRM", [("Customer", True), ("Note", False)])
    c = playbooks.connect(store, owner, pb.id, bp_id)
    assert (c.blueprint_id, c.blueprint_name, c.integration_name) == (
        bp_id,
        "CRM",
        "Custom integration",
    )
    assert (c.field_count, c.required_count, c.mapped_count, c.missing_required_count) == (
        2,
        1,
        0,
        1,
    )
    info = playbooks.get(store, owner.account_id, pb.id)
    assert (info.connected_count, info.missing_required_count) == (1, 1)
    entry = audit.entries(store, owner.account_id)[0]
    assert entry.action == "playbook.connect" and "'CRM'" in entry.detail
    with pytest.raises(Conflict) as e:
        playbooks.connect(store, owner, pb.id, bp_id)
    assert "already connected" in e.value.message
    assert count(store, PlaybookBlueprint) == 1
    assert [b.name for b in playbooks.connectable(store, owner.account_id, pb.id)] == []
    assert blueprints.detail(store, owner.account_id, bp_id).playbooks == ("Sales contract",)


def test_connectable_lists_unconnected_blueprints_of_enabled_integrations(store, owner, pb):
    a, _ = make_blueprint(store, owner, "A", [])
    b, _ = make_blueprint(store, owner, "B", [])
    marketplace.enable(store, owner, "slack")
    marketplace.enable(store, owner, "hubspot")
    marketplace.disable(store, owner, "hubspot")
    playbooks.connect(store, owner, pb.id, a)
    names = [x.name for x in playbooks.connectable(store, owner.account_id, pb.id)]
    assert names == ["Slack fields", "B"]
    assert b in [x.id for x in playbooks.connectable(store, owner.account_id, pb.id)]


def test_6th_blueprint_refused_at_default_limit(store, owner, pb):
    ids = [make_blueprint(store, owner, f"BP {i}", [])[0] for i in range(6)]
    for bp_id in ids[:5]:
        playbooks.connect(store, owner, pb.id, bp_id)
    before = audit_count(store)
    with pytest.raises(LimitReached) as e:
        playbooks.connect(store, owner, pb.id, ids[5])
    assert e.value.limit == 5
    assert "5 of 5 connected blueprints" in e.value.message
    assert count(store, PlaybookBlueprint) == 5
    assert audit_count(store) == before
    # The limit is per playbook.
    other = playbooks.create(store, owner, name="Other")
    playbooks.connect(store, owner, other.id, ids[5])


def test_connected_limit_lowered(store, owner, pb):
    accounts.set_plan_and_limits(
        store, owner.account_id, operator="ops", limits={"connected_blueprints": 1}
    )
    a, _ = make_blueprint(store, owner, "A", [])
    b, _ = make_blueprint(store, owner, "B", [])
    playbooks.connect(store, owner, pb.id, a)
    with pytest.raises(LimitReached) as e:
        playbooks.connect(store, owner, pb.id, b)
    assert "1 of 1 connected blueprints" in e.value.message


def test_blueprint_of_another_account_cannot_be_connected(store, owner, pb):
    with store.write() as s:
        acct = Account(name="Elsewhere", plan="Business", created_at=clock.now())
        s.add(acct)
        s.flush()
        integ = Integration(
            account_id=acct.id,
            extension_key="custom",
            first_enabled_at=clock.now(),
            enabled_at=clock.now(),
            enabled_by="eve",
        )
        s.add(integ)
        s.flush()
        bp = Blueprint(
            account_id=acct.id,
            integration_id=integ.id,
            name="Theirs",
            created_at=clock.now(),
            created_by="eve",
        )
        s.add(bp)
        s.flush()
        foreign = bp.id
    with pytest.raises(NotFound) as e:
        playbooks.connect(store, owner, pb.id, foreign)
    assert "blueprint no longer exists" in e.value.message
    assert count(store, PlaybookBlueprint) == 0


def test_blueprint_of_disabled_integration_cannot_be_connected(store, owner, pb):
    marketplace.enable(store, owner, "hubspot")
    bp = blueprints.all_for_account(store, owner.account_id)[0]
    marketplace.disable(store, owner, "hubspot")
    with pytest.raises(Conflict) as e:
        playbooks.connect(store, owner, pb.id, bp.id)
    assert "HubSpot" in e.value.message and "disabled" in e.value.message
    assert count(store, PlaybookBlueprint) == 0


def test_disconnect_removes_its_mappings_only(store, owner, pb):
    bp1, f1 = make_blueprint(store, owner, "CRM", [("Customer", True), ("Amount", False)])
    bp2, f2 = make_blueprint(store, owner, "ERP", [("Client", True)])
    cust = playbooks.add_data_field(store, owner, pb.id, name="Customer")
    amount = playbooks.add_data_field(store, owner, pb.id, name="Amount")
    playbooks.connect(store, owner, pb.id, bp1)
    playbooks.connect(store, owner, pb.id, bp2)
    playbooks.set_mapping(store, owner, pb.id, f1["Customer"], cust.id)
    playbooks.set_mapping(store, owner, pb.id, f1["Amount"], amount.id)
    playbooks.set_mapping(store, owner, pb.id, f2["Client"], cust.id)
    assert playbooks.mappings_count(store, pb.id, bp1) == 2
    assert playbooks.mappings_count(store, pb.id, bp2) == 1
    with pytest.raises(Conflict) as e:
        playbooks.disconnect(store, owner, pb.id, bp1, expected_mappings=1)
    assert "now has 2 mappings" in e.value.message
    assert count(store, Mapping) == 3
    assert playbooks.disconnect(store, owner, pb.id, bp1, expected_mappings=2) == 2
    assert count(store, Mapping) == 1
    d = playbooks.detail(store, owner.account_id, pb.id)
    assert [c.blueprint_name for c in d.connections] == ["ERP"]
    assert [(r.field_name, r.data_field_name) for r in d.mappings] == [("Client", "Customer")]
    assert d.data_fields[0].sources == ("ERP / Client",)
    entry = audit.entries(store, owner.account_id)[0]
    assert entry.action == "playbook.disconnect"
    assert entry.detail == "disconnected blueprint 'CRM'; 2 mappings removed"
    with pytest.raises(NotFound) as e:
        playbooks.disconnect(store, owner, pb.id, bp1)
    assert "not connected" in e.value.message


def test_deleting_a_connected_blueprint_is_refused_naming_the_playbooks(store, owner, pb):
    bp_id, _ = make_blueprint(store, owner, "CRM", [("Customer", True)])
    other = playbooks.create(store, owner, name="Another playbook")
    playbooks.connect(store, owner, pb.id, bp_id)
    playbooks.connect(store, owner, other.id, bp_id)
    with pytest.raises(Conflict) as e:
        blueprints.delete(store, owner, bp_id)
    assert "connected to 2 playbooks" in e.value.message
    assert "'Another playbook'" in e.value.message and "'Sales contract'" in e.value.message
    assert count(store, Blueprint) == 1
    playbooks.disconnect(store, owner, pb.id, bp_id)
    playbooks.disconnect(store, owner, other.id, bp_id)
    blueprints.delete(store, owner, bp_id)
    assert count(store, Blueprint) == 0


# -- mappings --------------------------------------------------------------------


def test_mapping_requires_a_connected_blueprint(store, owner, pb):
    _bp, f = make_blueprint(store, owner, "CRM", [("Customer", True)])
    df = playbooks.add_data_field(store, owner, pb.id, name="Customer")
    before = audit_count(store)
    with pytest.raises(Conflict) as e:
        playbooks.set_mapping(store, owner, pb.id, f["Customer"], df.id)
    assert "'CRM' is not connected to 'Sales contract'" in e.value.message
    assert count(store, Mapping) == 0
    assert audit_count(store) == before


def test_map_remap_and_clear(store, owner, pb):
    bp, f = make_blueprint(store, owner, "CRM", [("Customer", True)])
    a = playbooks.add_data_field(store, owner, pb.id, name="Customer")
    b = playbooks.add_data_field(store, owner, pb.id, name="Client")
    playbooks.connect(store, owner, pb.id, bp)
    row = playbooks.set_mapping(store, owner, pb.id, f["Customer"], a.id)
    assert (row.data_field_id, row.data_field_name, row.missing) == (a.id, "Customer", False)
    # A blueprint field maps to one data field: mapping it again moves it.
    playbooks.set_mapping(store, owner, pb.id, f["Customer"], b.id)
    with store.read() as s:
        assert s.exec(select(Mapping.data_field_id)).all() == [(b.id,)]
    assert playbooks.set_mapping(store, owner, pb.id, f["Customer"], None).data_field_id is None
    assert count(store, Mapping) == 0
    actions = audit_actions(store, owner)[:3]
    assert actions == ["mapping.delete", "mapping.update", "mapping.create"]
    entry = audit.entries(store, owner.account_id)[1]
    assert entry.object_name == "Sales contract: CRM / Customer"
    assert entry.detail == "now mapped to 'Client' (was 'Customer')"


def test_blueprint_field_maps_to_one_data_field_db_constraint(store, owner, pb):
    bp, f = make_blueprint(store, owner, "CRM", [("Customer", True)])
    a = playbooks.add_data_field(store, owner, pb.id, name="A")
    b = playbooks.add_data_field(store, owner, pb.id, name="B")
    playbooks.connect(store, owner, pb.id, bp)
    playbooks.set_mapping(store, owner, pb.id, f["Customer"], a.id)
    with pytest.raises(IntegrityError), store.write(owner.account_id) as s:
        s.add(Mapping(playbook_id=pb.id, blueprint_field_id=f["Customer"], data_field_id=b.id))
    assert count(store, Mapping) == 1


def test_data_field_takes_one_field_per_blueprint(store, owner, pb):
    crm, fc = make_blueprint(store, owner, "CRM", [("Customer", True), ("Company", False)])
    erp, fe = make_blueprint(store, owner, "ERP", [("Client", True)])
    df = playbooks.add_data_field(store, owner, pb.id, name="Customer")
    playbooks.connect(store, owner, pb.id, crm)
    playbooks.connect(store, owner, pb.id, erp)
    playbooks.set_mapping(store, owner, pb.id, fc["Customer"], df.id)
    before = audit_count(store)
    with pytest.raises(Conflict) as e:
        playbooks.set_mapping(store, owner, pb.id, fc["Company"], df.id)
    assert "'Customer' already receives 'Customer' from 'CRM'" in e.value.message
    assert "one field from each blueprint" in e.value.message
    assert count(store, Mapping) == 1
    assert audit_count(store) == before
    # One from each blueprint is fine.
    playbooks.set_mapping(store, owner, pb.id, fe["Client"], df.id)
    d = playbooks.detail(store, owner.account_id, pb.id)
    assert d.data_fields[0].sources == ("CRM / Customer", "ERP / Client")


def test_mapping_to_a_data_field_of_another_playbook_refused(store, owner, pb):
    bp, f = make_blueprint(store, owner, "CRM", [("Customer", True)])
    other = playbooks.create(store, owner, name="Other")
    theirs = playbooks.add_data_field(store, owner, other.id, name="Customer")
    playbooks.connect(store, owner, pb.id, bp)
    with pytest.raises(NotFound) as e:
        playbooks.set_mapping(store, owner, pb.id, f["Customer"], theirs.id)
    assert "data field no longer exists" in e.value.message
    assert count(store, Mapping) == 0


def test_member_cannot_map(store, owner, member, pb):
    bp, f = make_blueprint(store, owner, "CRM", [("Customer", True)])
    df = playbooks.add_data_field(store, owner, pb.id, name="Customer")
    playbooks.connect(store, owner, pb.id, bp)
    with pytest.raises(PermissionDenied):
        playbooks.set_mapping(store, member, pb.id, f["Customer"], df.id)
    with pytest.raises(PermissionDenied):
        playbooks.connect(store, member, pb.id, bp)
    with pytest.raises(PermissionDenied):
        playbooks.disconnect(store, member, pb.id, bp)
    assert count(store, Mapping) == 0 and count(store, PlaybookBlueprint) == 1


# -- completeness ----------------------------------------------------------------


def test_completeness_names_exactly_the_missing_required_fields(store, owner, pb):
    assert playbooks.completeness(store, owner.account_id, pb.id).complete  # nothing connected
    marketplace.enable(store, owner, "salesforce")
    sf = blueprints.all_for_account(store, owner.account_id)[0]
    crm, fc = make_blueprint(store, owner, "CRM", [("Customer", True), ("Note", False)])
    playbooks.connect(store, owner, pb.id, sf.id)
    playbooks.connect(store, owner, pb.id, crm)

    c = playbooks.completeness(store, owner.account_id, pb.id)
    assert not c.complete
    assert [(m.blueprint_name, m.field_name) for m in c.missing] == [
        ("CRM", "Customer"),
        ("Salesforce fields", "Opportunity ID"),
        ("Salesforce fields", "Account name"),
    ]
    assert c.summary == (
        "Incomplete: 3 required fields not mapped: CRM / Customer, "
        "Salesforce fields / Opportunity ID, Salesforce fields / Account name"
    )
    info = playbooks.get(store, owner.account_id, pb.id)
    assert (info.missing_required_count, info.complete) == (3, False)
    d = playbooks.detail(store, owner.account_id, pb.id)
    assert d.missing == c.missing and d.completeness == c
    assert [r.field_name for r in d.mappings if r.missing] == [
        "Customer",
        "Opportunity ID",
        "Account name",
    ]
    assert len(d.mappings) == 2 + 7  # every field of every connected blueprint

    sf_fields = {f.name: f.id for f in blueprints.detail(store, owner.account_id, sf.id).fields}
    cust = playbooks.add_data_field(store, owner, pb.id, name="Customer")
    opp = playbooks.add_data_field(store, owner, pb.id, name="Opportunity")
    playbooks.set_mapping(store, owner, pb.id, fc["Customer"], cust.id)
    playbooks.set_mapping(store, owner, pb.id, sf_fields["Account name"], cust.id)
    c = playbooks.completeness(store, owner.account_id, pb.id)
    assert [m.label for m in c.missing] == ["Salesforce fields / Opportunity ID"]
    assert playbooks.get(store, owner.account_id, pb.id).missing_required_count == 1

    playbooks.set_mapping(store, owner, pb.id, sf_fields["Opportunity ID"], opp.id)
    c = playbooks.completeness(store, owner.account_id, pb.id)
    assert c.complete and c.missing == ()
    assert c.summary.startswith("Complete")
    assert playbooks.get(store, owner.account_id, pb.id).complete
    assert playbooks.detail(store, owner.account_id, pb.id).complete


def test_completeness_follows_blueprint_changes(store, owner, pb):
    bp, f = make_blueprint(store, owner, "CRM", [("Customer", False), ("Extra", True)])
    playbooks.connect(store, owner, pb.id, bp)
    assert [
        m.field_name for m in playbooks.completeness(store, owner.account_id, pb.id).missing
    ] == ["Extra"]
    # Requiring a field later makes the playbook incomplete.
    blueprints.update_field(store, owner, f["Customer"], name="Customer", mapping_required=True)
    assert len(playbooks.completeness(store, owner.account_id, pb.id).missing) == 2
    # Deleting a required field (its mapping goes with it) completes it again.
    df = playbooks.add_data_field(store, owner, pb.id, name="Customer")
    playbooks.set_mapping(store, owner, pb.id, f["Customer"], df.id)
    blueprints.delete_field(store, owner, f["Extra"])
    assert playbooks.completeness(store, owner.account_id, pb.id).complete
    blueprints.delete_field(store, owner, f["Customer"])
    assert count(store, Mapping) == 0
    assert playbooks.completeness(store, owner.account_id, pb.id).complete


def test_disconnecting_makes_complete_again(store, owner, pb):
    bp, _ = make_blueprint(store, owner, "CRM", [("Customer", True)])
    playbooks.connect(store, owner, pb.id, bp)
    assert not playbooks.get(store, owner.account_id, pb.id).complete
    assert playbooks.disconnect(store, owner, pb.id, bp) == 0
    assert playbooks.get(store, owner.account_id, pb.id).complete


def test_completeness_of_unknown_playbook(store, owner):
    with pytest.raises(NotFound):
        playbooks.completeness(store, owner.account_id, 12345)


# -- create data fields from a blueprint -----------------------------------------


def test_create_data_fields_from_blueprint(store, owner, pb):
    bp, f = make_blueprint(
        store,
        owner,
        "CRM",
        [
            ("Customer", True),
            ("Amount", False),
            ("Owner", False),
            ("Stage", False),
            ("Close date", True),
        ],
    )
    blueprints.update_field(store, owner, f["Amount"], name="Amount", description="Deal amount")
    playbooks.connect(store, owner, pb.id, bp)
    # Already mapped: Stage -> "Phase" (left alone).
    phase = playbooks.add_data_field(store, owner, pb.id, name="Phase")
    playbooks.set_mapping(store, owner, pb.id, f["Stage"], phase.id)
    # Same name, nothing from CRM yet: Customer is mapped to it, not created again.
    customer = playbooks.add_data_field(store, owner, pb.id, name="customer")
    # Same name but already fed by another CRM field: Owner is skipped.
    owner_df = playbooks.add_data_field(store, owner, pb.id, name="Owner")
    playbooks.set_mapping(store, owner, pb.id, f["Close date"], owner_df.id)

    before = (count(store, DataField), count(store, Mapping), audit_count(store))
    preview = playbooks.preview_from_blueprint(store, owner, pb.id, bp)
    assert (count(store, DataField), count(store, Mapping), audit_count(store)) == before
    res = playbooks.create_data_fields_from_blueprint(store, owner, pb.id, bp)
    assert preview == res  # same names in each list (new ids are not part of equality)
    assert preview.data_field_ids == ()
    assert res.blueprint_name == "CRM"
    assert res.created == ("Amount",)
    assert res.mapped_to_existing == ("Customer",)
    assert res.skipped == ("Owner",)
    assert res.changed

    d = playbooks.detail(store, owner.account_id, pb.id)
    by_field = {r.field_name: r.data_field_name for r in d.mappings}
    assert by_field == {
        "Customer": "customer",
        "Amount": "Amount",
        "Owner": None,
        "Stage": "Phase",
        "Close date": "Owner",
    }
    amount = next(x for x in d.data_fields if x.name == "Amount")
    assert amount.description == "Deal amount"
    assert amount.id in res.data_field_ids
    assert [x.name for x in d.data_fields] == ["Phase", "customer", "Owner", "Amount"]
    assert d.complete
    entry = audit.entries(store, owner.account_id)[0]
    assert entry.action == "playbook.fields_from_blueprint"
    assert "1 data field created and mapped ('Amount')" in entry.detail
    assert "1 mapped to existing data fields of the same name ('Customer')" in entry.detail
    assert "1 skipped" in entry.detail and "'Owner'" in entry.detail
    assert customer.id not in res.data_field_ids

    # Running it again has nothing left to do but the skipped field.
    again = playbooks.create_data_fields_from_blueprint(store, owner, pb.id, bp)
    assert (again.created, again.mapped_to_existing, again.skipped) == ((), (), ("Owner",))
    assert not again.changed
    assert audit.entries(store, owner.account_id)[0].id == entry.id  # no change, no entry


def test_create_from_blueprint_on_native_fills_a_fresh_playbook(store, owner, pb):
    marketplace.enable(store, owner, "salesforce")
    sf = blueprints.all_for_account(store, owner.account_id)[0]
    playbooks.connect(store, owner, pb.id, sf.id)
    assert not playbooks.get(store, owner.account_id, pb.id).complete
    res = playbooks.create_data_fields_from_blueprint(store, owner, pb.id, sf.id)
    assert len(res.created) == 7 and res.created[0] == "Opportunity ID"
    info = playbooks.get(store, owner.account_id, pb.id)
    assert (info.data_field_count, info.complete) == (7, True)


def test_create_from_blueprint_refuses_entirely_beyond_the_limit(store, owner, pb):
    accounts.set_plan_and_limits(store, owner.account_id, operator="ops", limits={"data_fields": 4})
    bp, _ = make_blueprint(
        store, owner, "CRM", [("A", True), ("B", False), ("C", False), ("D", False)]
    )
    playbooks.connect(store, owner, pb.id, bp)
    playbooks.add_data_field(store, owner, pb.id, name="X")
    playbooks.add_data_field(store, owner, pb.id, name="Y")
    before = audit_count(store)
    with pytest.raises(LimitReached) as e:
        playbooks.preview_from_blueprint(store, owner, pb.id, bp)
    assert "2 would not fit" in e.value.message
    with pytest.raises(LimitReached) as e:
        playbooks.create_data_fields_from_blueprint(store, owner, pb.id, bp)
    assert e.value.limit == 4
    assert "Creating 4 data fields from 'CRM'" in e.value.message
    assert "(it has 2): 2 would not fit" in e.value.message
    assert "Nothing was created" in e.value.message
    assert count(store, DataField) == 2 and count(store, Mapping) == 0
    assert audit_count(store) == before
    # Exactly filling the limit is allowed.
    playbooks.delete_data_field(
        store, owner, playbooks.detail(store, owner.account_id, pb.id).data_fields[0].id
    )
    playbooks.delete_data_field(
        store, owner, playbooks.detail(store, owner.account_id, pb.id).data_fields[0].id
    )
    assert len(playbooks.create_data_fields_from_blueprint(store, owner, pb.id, bp).created) == 4


def test_create_from_blueprint_needs_a_connection(store, owner, pb):
    bp, _ = make_blueprint(store, owner, "CRM", [("A", True)])
    with pytest.raises(Conflict) as e:
        playbooks.create_data_fields_from_blueprint(store, owner, pb.id, bp)
    assert "not connected" in e.value.message
    assert count(store, DataField) == 0


# -- the largest playbook ----------------------------------------------------------


def test_largest_playbook_loads_in_a_few_queries(store, owner, pb):
    """300 data fields and 5 blueprints of 60 fields: the default limits, filled
    by "create from blueprint"; the 301st data field is refused."""
    bps = [bulk_blueprint(store, owner, f"Blueprint {i}", 60, f"B{i} field") for i in range(5)]
    for bp in bps:
        playbooks.connect(store, owner, pb.id, bp)
        assert (
            len(playbooks.create_data_fields_from_blueprint(store, owner, pb.id, bp).created) == 60
        )
    with pytest.raises(LimitReached) as e:
        playbooks.add_data_field(store, owner, pb.id, name="One more")
    assert "300 of 300 data fields" in e.value.message

    with count_selects(store) as selects:
        d = playbooks.detail(store, owner.account_id, pb.id)
    assert len(selects) <= 4
    assert len(d.data_fields) == 300 and len(d.connections) == 5 and len(d.mappings) == 300
    assert all(r.data_field_id is not None for r in d.mappings)
    assert d.complete and d.playbook.data_field_count == 300
    assert all(c.mapped_count == 60 and c.required_count == 6 for c in d.connections)

    for _ in range(3):
        playbooks.create(store, owner, name=f"Another {_}")
    with count_selects(store) as selects:
        listed = playbooks.all_for_account(store, owner.account_id)
    assert len(selects) == 1
    big = next(p for p in listed if p.id == pb.id)
    assert (big.data_field_count, big.connected_count, big.missing_required_count) == (300, 5, 0)

    with count_selects(store) as selects:
        c = playbooks.completeness(store, owner.account_id, pb.id)
    assert c.complete and len(selects) <= 2

    # Disconnecting one blueprint removes its 60 mappings and its 6 required are no longer due.
    assert playbooks.mappings_count(store, pb.id, bps[0]) == 60
    assert playbooks.disconnect(store, owner, pb.id, bps[0]) == 60
    assert playbooks.get(store, owner.account_id, pb.id).connected_count == 4


def test_every_change_is_audited(store, owner):
    bp, f = make_blueprint(store, owner, "CRM", [("Customer", True)])
    start = audit_count(store)
    p = playbooks.create(store, owner, name="P")
    playbooks.update(store, owner, p.id, name="P2")
    df = playbooks.add_data_field(store, owner, p.id, name="Customer")
    playbooks.update_data_field(store, owner, df.id, name="Client")
    playbooks.connect(store, owner, p.id, bp)
    playbooks.set_mapping(store, owner, p.id, f["Customer"], df.id)
    playbooks.set_mapping(store, owner, p.id, f["Customer"], None)
    playbooks.create_data_fields_from_blueprint(store, owner, p.id, bp)
    playbooks.disconnect(store, owner, p.id, bp)
    playbooks.delete_data_field(store, owner, df.id)
    playbooks.delete(store, owner, p.id)
    actions = audit_actions(store, owner)[: audit_count(store) - start]
    assert list(reversed(actions)) == [
        "playbook.create",
        "playbook.update",
        "data_field.create",
        "data_field.update",
        "playbook.connect",
        "mapping.create",
        "mapping.delete",
        "playbook.fields_from_blueprint",
        "playbook.disconnect",
        "data_field.delete",
        "playbook.delete",
    ]
    assert {e.actor for e in audit.entries(store, owner.account_id)[: len(actions)]} == {"alice"}


def test_create_from_blueprint_never_makes_two_names_differing_by_case(store, owner, pb):
    # Blueprint fields differing only by case cannot be added through the store,
    # but a synced blueprint could hold them: only the first becomes a data field.
    bp, _ = make_blueprint(store, owner, "CRM", [("Email", False)])
    with store.write(owner.account_id) as s:
        s.add(BlueprintField(blueprint_id=bp, name="EMAIL", position=9, created_at=clock.now()))
    playbooks.connect(store, owner, pb.id, bp)
    res = playbooks.create_data_fields_from_blueprint(store, owner, pb.id, bp)
    assert (res.created, res.skipped) == (("Email",), ("EMAIL",))
    assert [f.name for f in playbooks.detail(store, owner.account_id, pb.id).data_fields] == [
        "Email"
    ]
