"""Store rules of blueprints and their fields.

Every test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from store import (
    accounts,
    audit,
    blueprints,
    clock,
    marketplace,
)
from store.errors import (
    Conflict,
    LimitReached,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from store.models import AuditEntry, Playbook, PlaybookBlueprint

from ..helpers import refused

# -- blueprints -------------------------------------------------------------------


def test_create_blueprint_trims_and_audits(store, owner, custom):
    bp = blueprints.create(store, owner, custom, name="  Orders  ", description=" ERP ")
    assert (bp.name, bp.description, bp.native, bp.created_by) == ("Orders", "ERP", False, "alice")
    [entry] = audit.entries(store, owner.account_id, text="blueprint.create")
    assert (entry.actor, entry.object_name, entry.object_id) == ("alice", "Orders", bp.id)


@pytest.mark.parametrize(
    "name, message",
    [
        ("", "Name is required."),
        ("   ", "Name is required."),
        ("x" * 101, "101 characters long; at most 100"),
        ("a\nb", "control characters"),
        ("bell\x07", "control characters"),
    ],
)
def test_blueprint_name_rules(store, owner, custom, name, message):
    err = refused(store, ValidationError, blueprints.create, store, owner, custom, name=name)
    assert err.field == "name" and message in str(err)


def test_blueprint_name_of_100_characters_is_fine(store, owner, custom):
    assert blueprints.create(store, owner, custom, name="x" * 100).name == "x" * 100


def test_blueprint_names_unique_in_account_case_insensitive(store, owner, custom):
    blueprints.create(store, owner, custom, name="Orders")
    err = refused(store, ValidationError, blueprints.create, store, owner, custom, name="orders")
    assert err.field == "name" and "already exists" in str(err)
    # A native blueprint's name counts too.
    marketplace.enable(store, owner, "slack")
    refused(store, ValidationError, blueprints.create, store, owner, custom, name="Slack fields")


def test_eleventh_custom_blueprint_is_refused_with_the_limit(store, owner, custom):
    for n in range(10):
        blueprints.create(store, owner, custom, name=f"Blueprint {n}")
    err = refused(store, LimitReached, blueprints.create, store, owner, custom, name="Eleventh")
    assert "10 of 10" in str(err) and err.limit == 10
    assert accounts.account_info(store, owner.account_id).custom_blueprints == 10


def test_blueprints_only_on_custom_integration(store, owner, custom):
    iid = marketplace.enable(store, owner, "pipedrive")
    err = refused(store, Conflict, blueprints.create, store, owner, iid, name="Mine")
    assert "native integration" in str(err)
    [bp] = blueprints.for_integration(store, owner.account_id, iid)
    refused(store, Conflict, blueprints.add_field, store, owner, bp.id, name="Extra")
    refused(store, Conflict, blueprints.delete, store, owner, bp.id)


def test_member_cannot_change_blueprints(store, owner, member, custom):
    bp = blueprints.create(store, owner, custom, name="Orders")
    refused(store, PermissionDenied, blueprints.create, store, member, custom, name="X")
    refused(store, PermissionDenied, blueprints.update, store, member, bp.id, name="Y")
    refused(store, PermissionDenied, blueprints.delete, store, member, bp.id)
    refused(store, PermissionDenied, blueprints.add_field, store, member, bp.id, name="F")
    # ...but reads everything.
    assert [b.name for b in blueprints.for_integration(store, member.account_id, custom)] == [
        "Orders"
    ]


def test_update_blueprint_and_version_conflict(store, owner, custom):
    bp = blueprints.create(store, owner, custom, name="Orders")
    other = blueprints.create(store, owner, custom, name="Invoices")
    updated = blueprints.update(store, owner, bp.id, name="Sales orders", version=bp.version)
    assert (updated.name, updated.version) == ("Sales orders", bp.version + 1)
    err = refused(
        store, Conflict, blueprints.update, store, owner, bp.id, name="Stale", version=bp.version
    )
    assert "changed by someone else" in str(err)
    refused(store, ValidationError, blueprints.update, store, owner, bp.id, name=other.name)


def test_delete_blueprint_with_fields(store, owner, custom):
    bp = blueprints.create(store, owner, custom, name="Orders")
    blueprints.add_field(store, owner, bp.id, name="Number")
    blueprints.delete(store, owner, bp.id)
    assert blueprints.for_integration(store, owner.account_id, custom) == []
    refused(store, NotFound, blueprints.detail, store, owner.account_id, bp.id)


def test_connected_blueprint_cannot_be_deleted_and_names_playbooks(store, owner, custom):
    bp = blueprints.create(store, owner, custom, name="Orders")
    with store.write(owner.account_id) as s:
        for name in ("Sales contract", "NDA"):
            pb = Playbook(
                account_id=owner.account_id, name=name, created_at=clock.now(), created_by="alice"
            )
            s.add(pb)
            s.flush()
            s.add(
                PlaybookBlueprint(playbook_id=pb.id, blueprint_id=bp.id, connected_at=clock.now())
            )
    err = refused(store, Conflict, blueprints.delete, store, owner, bp.id)
    assert "2 playbooks" in str(err) and "'NDA'" in str(err) and "'Sales contract'" in str(err)
    assert blueprints.detail(store, owner.account_id, bp.id).playbooks == ("NDA", "Sales contract")


# -- fields ---------------------------------------------------------------------


def test_fields_unique_within_blueprint_only(store, owner, custom):
    a = blueprints.create(store, owner, custom, name="A")
    b = blueprints.create(store, owner, custom, name="B")
    f = blueprints.add_field(
        store, owner, a.id, name="Number", description="n", mapping_required=True
    )
    assert (f.name, f.description, f.mapping_required) == ("Number", "n", True)
    err = refused(store, ValidationError, blueprints.add_field, store, owner, a.id, name="NUMBER")
    assert err.field == "name" and "already has a field" in str(err)
    blueprints.add_field(store, owner, b.id, name="Number")  # another blueprint: fine
    info = blueprints.detail(store, owner.account_id, a.id).blueprint
    assert (info.field_count, info.required_count) == (1, 1)


def test_field_validation(store, owner, custom):
    bp = blueprints.create(store, owner, custom, name="A")
    refused(store, ValidationError, blueprints.add_field, store, owner, bp.id, name="")
    refused(
        store,
        ValidationError,
        blueprints.add_field,
        store,
        owner,
        bp.id,
        name="ok",
        description="x" * 2001,
    )
    refused(
        store,
        ValidationError,
        blueprints.add_field,
        store,
        owner,
        bp.id,
        name="ok",
        mapping_required="yes",
    )


def test_update_and_delete_field(store, owner, custom):
    bp = blueprints.create(store, owner, custom, name="A")
    f = blueprints.add_field(store, owner, bp.id, name="Number")
    g = blueprints.add_field(store, owner, bp.id, name="Date")
    f2 = blueprints.update_field(
        store, owner, f.id, name="Order number", mapping_required=True, version=f.version
    )
    assert (f2.name, f2.mapping_required, f2.version) == ("Order number", True, f.version + 1)
    err = refused(
        store,
        Conflict,
        blueprints.update_field,
        store,
        owner,
        f.id,
        name="Stale",
        version=f.version,
    )
    assert "changed by someone else" in str(err)
    refused(
        store, ValidationError, blueprints.update_field, store, owner, g.id, name="order NUMBER"
    )
    blueprints.delete_field(store, owner, g.id)
    assert [x.name for x in blueprints.detail(store, owner.account_id, bp.id).fields] == [
        "Order number"
    ]
    refused(store, NotFound, blueprints.delete_field, store, owner, g.id)


def test_every_change_is_audited_in_the_same_transaction(store, owner, custom):
    bp = blueprints.create(store, owner, custom, name="A")
    f = blueprints.add_field(store, owner, bp.id, name="F")
    blueprints.update_field(store, owner, f.id, name="G")
    blueprints.delete_field(store, owner, f.id)
    blueprints.update(store, owner, bp.id, name="B")
    blueprints.delete(store, owner, bp.id)
    actions = [e.action for e in audit.entries(store, owner.account_id)]
    assert actions[:6] == [
        "blueprint.delete",
        "blueprint.update",
        "field.delete",
        "field.update",
        "field.create",
        "blueprint.create",
    ]
    with store.read() as s:
        assert all(e.actor == "alice" for e in s.exec(select(AuditEntry)).all())
