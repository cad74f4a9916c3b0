"""Safe upgrades: a new database gets the current schema, a database made by
release 0.1.0 (schema 1, kept in tests/data/) opens with every row intact, a
failed upgrade changes nothing, and a newer database is refused untouched.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

from store import (
    accounts,
    audit,
    blueprints,
    integrations,
    logsearch,
    migrations,
    playbooks,
    tokens,
)
from store.catalog import CUSTOM_KEY
from store.db import HEAD_REVISION, SCHEMA_VERSION, Store
from store.errors import SchemaTooNew, StoreUnavailable

from . import dump, load_v1, reflected_rows

# Columns added to tables of release 0.1.0 since, with the value existing rows get.
ADDED_SINCE_1 = {
    ("playbook", "version"): 1,
    ("webhook", "version"): 1,
    ("account", "retention_days"): 30,
    # Schema 5 (issue 17): pause and health of a webhook, the attempt's event delivery.
    ("webhook", "paused"): False,
    ("webhook", "consecutive_failures"): 0,
    ("webhook", "last_success_at"): None,
    ("webhook", "first_failure_at"): None,
    ("webhook", "exhausted_in_row"): 0,
    ("webhook", "disabled_at"): None,
    ("webhook", "disabled_reason"): None,
    ("delivery", "event_delivery_id"): None,
    ("delivery", "attempt"): None,
    # Schema 6: rotation of signing keys and tokens.
    ("webhook", "previous_key"): None,
    ("webhook", "previous_key_until"): None,
    ("api_token", "previous_hash"): None,
    ("api_token", "previous_hint"): None,
    ("api_token", "previous_until"): None,
    # Schema 8: the account's change counter.
    ("account", "changes"): 0,
}


def _schema_diff(store: Store) -> list:
    """What differs between the database's schema and the models (empty: same).
    The logs' search indexes are not in the models (store/logsearch.py): FTS5
    tables, their shadow tables and expression indexes, compared apart."""
    search = logsearch.object_names()

    def ours(name, type_, parent_names) -> bool:
        return name not in search

    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_name": ours})
        return compare_metadata(ctx, SQLModel.metadata)


def _versions(store: Store) -> tuple[str, str]:
    with store.engine.connect() as conn:
        meta = conn.execute(text("SELECT value FROM meta WHERE key = 'schema_version'")).scalar()
        rev = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return meta, rev


def test_revisions_and_schema_version_in_step():
    assert migrations.head_revision() == HEAD_REVISION == migrations.revision_of(SCHEMA_VERSION)


def test_new_database_gets_current_schema(db_url):
    st = Store(db_url)
    st.prepare()
    assert st.created and st.upgraded_from is None
    assert _versions(st) == (str(SCHEMA_VERSION), HEAD_REVISION)
    assert _schema_diff(st) == []
    st.dispose()
    again = Store(db_url)
    again.prepare()
    assert not again.created and again.upgraded_from is None
    again.dispose()


def test_v1_database_upgrades_with_every_row_intact(db_url):
    load_v1(db_url)
    before = reflected_rows(db_url)
    assert sum(len(r) for r in before.values()) > 60  # a real account, not an empty file
    assert "alembic_version" not in before

    st = Store(db_url)
    st.prepare()
    assert st.upgraded_from == 1 and not st.created
    assert _versions(st) == (str(SCHEMA_VERSION), HEAD_REVISION)
    if st.is_sqlite:
        assert st.backup_path is not None and st.backup_path.exists()
    # The upgraded schema is exactly the schema of a new database.
    assert _schema_diff(st) == []

    after = reflected_rows(db_url)
    for table, old_rows in before.items():
        if table == "meta":
            continue
        new_rows = after[table]
        assert len(new_rows) == len(old_rows), table
        for old, new in zip(old_rows, new_rows, strict=True):
            assert {k: new[k] for k in old} == old, table
            added = set(new) - set(old)
            assert added == {c for t, c in ADDED_SINCE_1 if t == table}, table
            assert all(new[c] == ADDED_SINCE_1[table, c] for c in added)
    assert after["meta"] == [{"key": "schema_version", "value": str(SCHEMA_VERSION)}]

    # And the program works on it: the people, their objects, a change with a version.
    alice = accounts.sign_in(st, "alice")
    assert (alice.role, alice.can_manage) == ("owner", True)
    assert accounts.sign_in(st, "bob").can_manage is False
    names = [b.name for b in blueprints.all_for_account(st, alice.account_id)]
    assert "[bold]Ünïcødé[/] 名前 🚀" in names and "Order data" in names
    custom = next(i for i in integrations.active(st, alice.account_id) if i.key == CUSTOM_KEY)
    listed = tokens.list_for_integration(st, alice.account_id, custom.id)
    assert {t.name for t in listed} == {"Old script", "ERP sync"}
    order = next(
        b for b in blueprints.all_for_account(st, alice.account_id) if b.name == "Order data"
    )
    blueprints.update(
        st, alice, order.id, name="Order data", description="new", version=order.version
    )
    pb = next(
        p for p in playbooks.all_for_account(st, alice.account_id) if p.name == "Sales contract"
    )
    playbooks.add_data_field(st, alice, pb.id, name="Added after the upgrade")
    assert len(playbooks.detail(st, alice.account_id, pb.id).data_fields) == 3
    assert len(audit.entries(st, alice.account_id)) == len(before["audit_entry"]) + 2
    st.dispose()

    reopened = Store(db_url)
    reopened.prepare()
    assert reopened.upgraded_from is None and reopened.backup_path is None
    reopened.dispose()


def test_downgrade_to_v1_keeps_rows(db_url):
    """The revisions' downgrades work too (a maintainer's tool: SQLite rebuilds the
    tables, with every reference kept)."""
    from alembic import command

    load_v1(db_url)
    before = reflected_rows(db_url)
    st = Store(db_url)
    st.prepare()
    with st._schema_transaction() as conn:
        command.downgrade(migrations.config(conn), "0001")
    cols = {c["name"] for c in inspect(st.engine).get_columns("playbook")}
    assert "version" not in cols
    after = reflected_rows(db_url)
    for table in before:
        if table not in ("meta",):
            assert after[table] == before[table], table
    st.dispose()


def test_v2_database_gets_the_listing_index_and_long_errors_cut(db_url):
    """Schema 3 replaces the delivery log's index with one holding the filtered
    columns; an error too long for a PostgreSQL index entry is cut first (the
    index could not be built over it), and every other row is left as it was."""
    from alembic import command

    from store import deliveries, marketplace, settings, webhooks
    from store.models import Delivery

    st = Store(db_url)
    owner = accounts.sign_in(st, "alice")
    custom = marketplace.enable(st, owner, CUSTOM_KEY)
    settings.set_allow_private_webhooks(st, owner, True)
    hook = webhooks.create(st, owner, custom, url="https://hooks.example.com/x").id
    with st._schema_transaction() as conn:  # back to schema 2
        command.downgrade(migrations.config(conn), "0002")
        conn.execute(text("UPDATE meta SET value = '2' WHERE key = 'schema_version'"))
    # Not compressible (PostgreSQL compresses index entries): 6,400 characters.
    noise = "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(100))
    long_error = "HTTP 302 Found: redirect to https://e.example/" + noise
    rows = [
        (long_error, False),
        ("Timeout: no answer in 10 s", False),
        (None, True),
    ]
    with st.engine.begin() as conn:
        for i, (error, ok) in enumerate(rows):
            conn.execute(
                Delivery.__table__.insert().values(
                    webhook_id=hook,
                    callback_id=f"cb{i}",
                    event_type="contract:sign",
                    url="https://hooks.example.com/x",
                    attempted_at=datetime(2026, 1, 1, 0, i, tzinfo=UTC),
                    success=ok,
                    status_code=200 if ok else None,
                    error=error,
                    request_headers="[]",
                    request_body="{}",
                    response_excerpt="",
                )
            )
    before = reflected_rows(db_url)
    st.dispose()

    st = Store(db_url)
    st.prepare()
    assert st.upgraded_from == 2
    assert _versions(st) == (str(SCHEMA_VERSION), HEAD_REVISION)
    assert _schema_diff(st) == []
    indexes = {ix["name"]: ix["column_names"] for ix in inspect(st.engine).get_indexes("delivery")}
    assert indexes["ix_delivery_listed"][:2] == ["webhook_id", "attempted_at"]
    assert "ix_delivery_webhook_time" not in indexes
    after = reflected_rows(db_url)
    errors = [r["error"] for r in after["delivery"]]
    assert errors[0] == long_error[: deliveries.ERROR_MAX - 1] + "…"
    assert len(errors[0]) == deliveries.ERROR_MAX
    assert errors[1:] == [e for e, _ in rows[1:]]
    for table in before:
        if table not in ("meta", "delivery", "alembic_version"):
            # Schema 4 adds a column to the account: every other column as it was.
            pairs = zip(after[table], before[table], strict=True)
            assert [{k: r[k] for k in old} for r, old in pairs] == before[table], table
    # The log lists and filters as before.
    listed = deliveries.deliveries(st, hook, text_filter="redirect")
    assert [d.callback_id for d in listed] == ["cb0"]
    st.dispose()


def test_failed_upgrade_changes_nothing(db_url, monkeypatch):
    load_v1(db_url)
    before = reflected_rows(db_url)
    real = migrations.upgrade

    def upgrade_then_fail(conn, from_version):
        real(conn, from_version)  # every DDL statement runs ...
        raise RuntimeError("power cut")  # ... and then the upgrade dies before commit

    monkeypatch.setattr(migrations, "upgrade", upgrade_then_fail)
    st = Store(db_url)
    with pytest.raises(RuntimeError):
        st.prepare()
    st.dispose()
    assert reflected_rows(db_url) == before  # same tables (no alembic_version), same rows
    monkeypatch.setattr(migrations, "upgrade", real)
    st = Store(db_url)
    st.prepare()
    assert st.upgraded_from == 1
    st.dispose()


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_newer_database_is_refused_untouched(db_url):
    st = Store(db_url)
    st.prepare()
    accounts.sign_in(st, "alice")
    with st.engine.begin() as conn:  # what a future release would have written
        conn.execute(text("UPDATE meta SET value = '99' WHERE key = 'schema_version'"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
        conn.execute(text("CREATE TABLE future_thing (id INTEGER PRIMARY KEY)"))
    st.dispose()
    before = reflected_rows(db_url)
    sha = _sha(st.path) if st.path else None

    newer = Store(db_url)
    with pytest.raises(SchemaTooNew) as err:
        newer.prepare()
    assert f"newer integrations-admin (schema 99; this program knows {SCHEMA_VERSION})" in str(
        err.value
    )
    assert "left untouched" in str(err.value)
    with pytest.raises(SchemaTooNew):
        accounts.sign_in(newer, "alice")  # sign_in prepares first
    newer.dispose()
    assert reflected_rows(db_url) == before
    if sha is not None:
        assert _sha(st.path) == sha


def test_database_of_another_program_is_refused(db_url):
    eng = create_engine(db_url)
    with eng.begin() as conn:
        conn.execute(text("CREATE TABLE account (id INTEGER PRIMARY KEY, owner TEXT)"))
        conn.execute(text("INSERT INTO account VALUES (7, 'someone else')"))
    eng.dispose()
    st = Store(db_url)
    with pytest.raises(StoreUnavailable, match="not made by integrations-admin"):
        st.prepare()
    st.dispose()
    assert list(reflected_rows(db_url)) == ["account"]


def test_opening_a_current_database_does_not_import_alembic(tmp_path):
    path = tmp_path / "cur.db"
    Store(str(path)).prepare()
    code = (
        "import sys; from store.db import Store; from store import accounts; "
        f"st = Store({str(path)!r}); st.prepare(); accounts.sign_in(st, 'alice'); "
        "print('alembic' in sys.modules, st.created)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_dump_helper_sees_every_table(store, owner):
    # The dump used by the hostile-input tests covers every table of the schema.
    assert set(dump(store)) == set(SQLModel.metadata.tables)


async def test_the_app_says_it_upgraded_and_where_the_backup_is(db_url):
    """An administrator opening an older database is told it was upgraded, and
    (SQLite) where the file as it was is kept; the next start says nothing."""
    from tui.app import IntegrationsAdmin

    from ..ui import flat

    load_v1(db_url)
    st = Store(db_url)
    st.prepare()
    alice = accounts.sign_in(st, "alice")
    app = IntegrationsAdmin(st, alice)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await pilot.pause()
        shown = flat(app)
        assert f"from schema 1 to {SCHEMA_VERSION}" in shown
        if st.is_sqlite:
            assert st.backup_path is not None and st.backup_path.exists()
            assert st.backup_path.name in shown
        else:
            assert "kept at" not in shown
    st.dispose()

    again = Store(db_url)
    again.prepare()
    app = IntegrationsAdmin(again, accounts.sign_in(again, "alice"))
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await pilot.pause()
        assert "Upgraded" not in flat(app)
    again.dispose()


def test_the_cli_says_it_upgraded(db_url):
    load_v1(db_url)
    out = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--db", db_url, "account", "show"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"from schema 1 to {SCHEMA_VERSION}" in out.stderr
    assert "Plan" in out.stdout
    again = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--db", db_url, "account", "show"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert again.stderr == ""
