"""Store rules of the foundation: accounts, plans, Marketplace, blueprints, fields.

Every test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlmodel import select

from store import (
    accounts,
    audit,
    blueprints,
    catalog,
    clock,
    integrations,
    marketplace,
    users,
)
from store.catalog import CUSTOM_KEY
from store.db import Store
from store.errors import (
    Conflict,
    LimitReached,
    NotFound,
    PermissionDenied,
    PlanRequired,
    UnknownUser,
    ValidationError,
)
from store.models import ApiToken, AuditEntry, Playbook, PlaybookBlueprint, Webhook


def snapshot(store: Store) -> dict[str, list]:
    """Every row of every table, to prove a refused call changed nothing."""
    from sqlmodel import SQLModel

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


# -- accounts and sign-in ----------------------------------------------------------


def test_first_login_creates_business_account_and_owner(store):
    actor = accounts.sign_in(store, "alice")
    assert (actor.login, actor.role, actor.can_manage) == ("alice", "owner", True)
    info = accounts.account_info(store, actor.account_id)
    assert info.plan == "Business"
    assert (info.limit_custom_blueprints, info.limit_connected_blueprints) == (10, 5)
    assert (info.limit_data_fields, info.limit_playbooks) == (300, 100)
    assert [e.action for e in audit.entries(store, actor.account_id)] == ["account.create"]


def test_unknown_login_is_refused_clearly(store, owner):
    err = refused(store, UnknownUser, accounts.sign_in, store, "mallory")
    assert "mallory" in str(err) and "users add mallory" in str(err)


def test_known_login_signs_in_again(store, owner):
    again = accounts.sign_in(store, "alice")
    assert again.user_id == owner.user_id


def test_operator_sets_plan_and_limits(store, owner):
    info = accounts.set_plan_and_limits(
        store, owner.account_id, operator="op", plan="Free", limits={"custom_blueprints": 3}
    )
    assert (info.plan, info.limit_custom_blueprints) == ("Free", 3)
    [entry] = [e for e in audit.entries(store, owner.account_id) if e.action == "account.update"]
    assert "Business -> Free" in entry.detail and "custom_blueprints 10 -> 3" in entry.detail
    refused(
        store,
        ValidationError,
        accounts.set_plan_and_limits,
        store,
        owner.account_id,
        operator="op",
        plan="Platinum",
    )
    refused(
        store,
        ValidationError,
        accounts.set_plan_and_limits,
        store,
        owner.account_id,
        operator="op",
        limits={"custom_blueprints": -1},
    )


# -- Marketplace ----------------------------------------------------------------


def test_catalog_has_the_ten_natives_and_custom():
    names = {e.name for e in catalog.EXTENSIONS if e.native}
    assert names == {
        "Salesforce",
        "HubSpot",
        "Microsoft Dynamics 365",
        "Pipedrive",
        "Upsales",
        "Lime CRM",
        "Membrain",
        "Slack",
        "Zapier",
        "Power Automate",
    }
    assert catalog.extension(CUSTOM_KEY).plan == "Business"
    for e in catalog.EXTENSIONS:
        if e.native:
            assert e.fields and any(f.mapping_required for f in e.fields), e.name


def test_enable_native_provisions_blueprint_token_and_webhook(store, owner):
    iid = marketplace.enable(store, owner, "salesforce")
    [bp] = blueprints.for_integration(store, owner.account_id, iid)
    ext = catalog.extension("salesforce")
    assert bp.native and bp.field_count == len(ext.fields)
    detail = blueprints.detail(store, owner.account_id, bp.id)
    assert [f.name for f in detail.fields] == [f.name for f in ext.fields]
    assert [f.mapping_required for f in detail.fields] == [f.mapping_required for f in ext.fields]
    with store.read() as s:
        [token] = s.exec(select(ApiToken).where(ApiToken.integration_id == iid)).all()
        [hook] = s.exec(select(Webhook).where(Webhook.integration_id == iid)).all()
    assert token.managed and len(token.token_hash) == 64
    assert hook.managed
    # Native blueprints do not count against the custom limit.
    assert accounts.account_info(store, owner.account_id).custom_blueprints == 0


def test_custom_integration_gets_nothing_automatically(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    info = integrations.get(store, owner.account_id, iid)
    assert (info.blueprints, info.tokens, info.webhooks) == (0, 0, 0)


@pytest.mark.parametrize(
    "plan, key, allowed",
    [
        ("Free", "salesforce", False),
        ("Free", CUSTOM_KEY, False),
        ("Essentials", "salesforce", True),
        ("Essentials", CUSTOM_KEY, False),
        ("Business", CUSTOM_KEY, True),
        ("Enterprise", CUSTOM_KEY, True),
    ],
)
def test_plan_rules(store, owner, plan, key, allowed):
    accounts.set_plan_and_limits(store, owner.account_id, operator="op", plan=plan)
    if allowed:
        marketplace.enable(store, owner, key)
        assert [i.key for i in integrations.active(store, owner.account_id)] == [key]
    else:
        err = refused(store, PlanRequired, marketplace.enable, store, owner, key)
        needed = catalog.extension(key).plan
        assert f"needs the {needed} plan" in str(err) and f"on {plan}" in str(err)


def test_marketplace_state_shows_plan_and_enabled(store, owner):
    accounts.set_plan_and_limits(store, owner.account_id, operator="op", plan="Essentials")
    marketplace.enable(store, owner, "slack")
    states = {s.extension.key: s for s in marketplace.extensions(store, owner.account_id)}
    assert states["slack"].enabled and states["slack"].allowed
    assert not states[CUSTOM_KEY].allowed and not states[CUSTOM_KEY].enabled


def test_disable_pauses_and_enable_restores_everything(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    bp = blueprints.create(store, owner, iid, name="Orders", description="d")
    blueprints.add_field(store, owner, bp.id, name="Number", mapping_required=True)
    marketplace.disable(store, owner, CUSTOM_KEY)
    assert integrations.active(store, owner.account_id) == []
    assert integrations.get(store, owner.account_id, iid).enabled is False
    # Paused: blueprints stay but cannot be changed.
    refused(
        store, Conflict, blueprints.add_field, store, owner, bp.id, name="Other", match="disabled"
    )
    refused(store, Conflict, blueprints.create, store, owner, iid, name="New", match="disabled")
    assert marketplace.enable(store, owner, CUSTOM_KEY) == iid
    detail = blueprints.detail(store, owner.account_id, bp.id)
    assert [(f.name, f.mapping_required) for f in detail.fields] == [("Number", True)]
    actions = [e.action for e in audit.entries(store, owner.account_id)]
    assert actions[:2] == ["extension.enable", "extension.disable"]


def test_native_reenable_does_not_duplicate(store, owner):
    iid = marketplace.enable(store, owner, "hubspot")
    marketplace.disable(store, owner, "hubspot")
    marketplace.enable(store, owner, "hubspot")
    assert len(blueprints.for_integration(store, owner.account_id, iid)) == 1


def test_unknown_extension(store, owner):
    refused(store, NotFound, marketplace.enable, store, owner, "myspace")


def test_member_cannot_enable_or_disable(store, owner, member):
    err = refused(store, PermissionDenied, marketplace.enable, store, member, CUSTOM_KEY)
    assert "Manage add-ons and integrations" in str(err)
    marketplace.enable(store, owner, CUSTOM_KEY)
    refused(store, PermissionDenied, marketplace.disable, store, member, CUSTOM_KEY)


def test_permission_is_read_from_the_database_each_time(store, owner, member):
    users.set_permission(store, owner, "bob", True)
    marketplace.enable(store, member, CUSTOM_KEY)  # the stale Actor says no; the DB says yes
    users.set_permission(store, owner, "bob", False)
    refused(store, PermissionDenied, marketplace.disable, store, member, CUSTOM_KEY)


# -- blueprints -------------------------------------------------------------------


@pytest.fixture
def custom(store, owner) -> int:
    return marketplace.enable(store, owner, CUSTOM_KEY)


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


# -- opening the store ---------------------------------------------------------------


def test_resolve_url(monkeypatch, tmp_path):
    from store.db import ENV_VAR, resolve_url

    monkeypatch.delenv(ENV_VAR, raising=False)
    assert resolve_url(None).endswith("integrations-admin.db")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "x.db"))
    assert resolve_url(None) == f"sqlite:///{tmp_path / 'x.db'}"
    assert resolve_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"


def test_sqlite_pragmas(tmp_path):
    st = Store(str(tmp_path / "p.db"))
    st.prepare()
    with st.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000
    assert st.created


def test_import_store_does_not_import_textual():
    code = (
        "import sys, store, store.db, store.blueprints, store.marketplace; "
        "print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_two_first_sign_ins_at_once_make_one_account(db_url):
    """Two people open a brand-new database at the same instant: one becomes
    the owner, the other is refused; never two accounts."""
    import threading

    from store.models import Account

    stores = [Store(db_url), Store(db_url)]
    for st in stores:
        st.prepare()
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def open_as(st: Store, login: str) -> None:
        barrier.wait()
        try:
            accounts.sign_in(st, login)
            outcomes[login] = "owner"
        except UnknownUser:
            outcomes[login] = "refused"

    threads = [
        threading.Thread(target=open_as, args=(st, login))
        for st, login in zip(stores, ("ann", "ben"), strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["owner", "refused"]
    with stores[0].read() as s:
        assert len(s.exec(select(Account)).all()) == 1
    for st in stores:
        st.dispose()
