"""The logs' filters use the search index (store/logsearch.py), proved by the
database's own plans, not by timing: the statements the store really runs for a
filter are caught as they go, and explained. On SQLite the older rows are
found through the FTS5 table and read by primary key (no scan of the log); on
PostgreSQL the planner reaches the trigram indexes. Opening a log and its
capped count read at most a window of its listing index."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, insert, text

from store import apiaccess, audit, delivery_log, logsearch
from store.models import AuditEntry

from ..contracts_world import build
from ..helpers import T0, bulk_insert
from .test_filters import hook_with_log


@contextmanager
def statements(store):
    """Every (SQL, parameters) the store runs inside the block."""
    seen: list[tuple[str, object]] = []

    def catch(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", catch)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", catch)


def explain(store, statement: str, parameters) -> str:
    with store.engine.connect() as conn:
        raw = conn.connection.driver_connection
        cur = raw.cursor()
        if store.is_sqlite:
            cur.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            return "\n".join(str(r[-1]) for r in cur.fetchall())
        # A small table is read whole by PostgreSQL's choice: forbid that, to see
        # what it reaches for instead.
        cur.execute("SET enable_seqscan = off")
        cur.execute("EXPLAIN " + statement, parameters)
        return "\n".join(str(r[0]) for r in cur.fetchall())


def _pg_text_plan(store, table: str, column: str) -> str:
    sql = f"SELECT id FROM {table} WHERE lower({column}) LIKE %s"
    return explain(store, sql, ("%carol%",))


def _by_index(store, seen, fts: str) -> str:
    """The plan of the statement that searched the older rows."""
    if store.is_sqlite:
        [(sql, params)] = [(q, p) for q, p in seen if f"{fts} MATCH" in q]
    else:
        sql, params = seen[-1]
    return explain(store, sql, params)


@pytest.fixture
def small_recent(monkeypatch):
    monkeypatch.setattr(logsearch, "RECENT", 50)


def _analyze(store) -> None:
    if not store.is_sqlite:
        with store.engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()


def test_the_audit_filter_finds_older_entries_through_the_index(store, owner, small_recent):
    bulk_insert(store, owner.account_id, 3000)
    _analyze(store)
    with statements(store) as seen:
        found = audit.entries(store, owner.account_id, text="carol")
    assert [r.object_name for r in found] == ["Object 3000", "Object 2000", "Object 1000"]
    plan = _by_index(store, seen, "audit_entry_search")
    if store.is_sqlite:
        assert "VIRTUAL TABLE INDEX" in plan and "audit_entry_search" in plan
        assert "USING INTEGER PRIMARY KEY" in plan
        assert "SCAN audit_entry\n" not in plan + "\n"
    else:
        # The planner prefers the primary key's range for the older entries of
        # a small log: the trigram index is proved usable for the filter itself.
        assert "ix_audit_entry_trgm_actor" in _pg_text_plan(store, "audit_entry", "actor")


def test_the_delivery_filter_finds_older_deliveries_through_the_index(store, owner, small_recent):
    hook, ids = hook_with_log(store, owner, 2000)
    _analyze(store)
    with statements(store) as seen:
        found = delivery_log.deliveries(store, hook, text_filter=ids[5][:12])
    assert ids[5] in [d.callback_id for d in found]
    plan = _by_index(store, seen, "delivery_search")
    if store.is_sqlite:
        assert "VIRTUAL TABLE INDEX" in plan and "USING INTEGER PRIMARY KEY" in plan
        assert "SCAN delivery\n" not in plan + "\n"
    else:
        assert "ix_delivery_trgm_callback_id" in _pg_text_plan(store, "delivery", "callback_id")


def test_the_request_filter_finds_older_requests_through_the_index(store, owner, small_recent):
    world = build(store, owner)
    caller = apiaccess.authenticate(store, world.token)
    apiaccess.record_requests(
        store,
        [
            apiaccess.LoggedRequest(
                account_id=caller.account_id,
                integration_id=caller.integration_id,
                token_id=caller.token_id,
                token_hint=caller.token_hint,
                at=T0 + timedelta(seconds=i),
                method="GET",
                path=f"/v1/contracts/{i}",
                status=200,
                latency_ms=1.0,
            )
            for i in range(2000)
        ],
    )
    _analyze(store)
    aid, iid = caller.account_id, caller.integration_id
    with statements(store) as seen:
        found = apiaccess.requests_for_integration(store, aid, iid, text_filter="/1234")
    assert [r.path for r in found] == ["/v1/contracts/1234"]
    plan = _by_index(store, seen, "api_request_search")
    if store.is_sqlite:
        assert "VIRTUAL TABLE INDEX" in plan and "USING INTEGER PRIMARY KEY" in plan
    else:
        # The token's name (not indexed) is or-ed in: PostgreSQL cannot combine
        # the trigram indexes for that statement (see the README); the index
        # itself serves the path's condition.
        assert "ix_api_request_trgm_path" in _pg_text_plan(store, "api_request", "path")


def test_opening_the_audit_log_and_its_count_read_a_window_of_the_index(store, owner):
    """The first page and the capped count: the (account, id) index, never the table."""
    bulk_insert(store, owner.account_id, 200)
    _analyze(store)
    with statements(store) as seen:
        audit.entries(store, owner.account_id)
        assert audit.count(store, owner.account_id, cap=100) == 101
    seen = [(q, p) for q, p in seen if q.startswith("SELECT")]
    assert len(seen) == 2
    for sql, params in seen:
        plan = explain(store, sql, params)
        if store.is_sqlite:
            assert "ix_audit_account_time" in plan or "INTEGER PRIMARY KEY" in plan, plan
        assert "LIMIT" in sql.upper()


def test_a_short_filter_reads_only_the_newest_rows(store, owner, monkeypatch):
    monkeypatch.setattr(logsearch, "RECENT", 100)
    bulk_insert(store, owner.account_id, 50)
    with store.write() as s:
        s.execute(
            insert(AuditEntry),
            [dict(account_id=owner.account_id, at=T0, actor="zq", action="x", object_type="x")],
        )
    assert [r.actor for r in audit.entries(store, owner.account_id, text="zq")] == ["zq"]
    bulk_insert(store, owner.account_id, 1000)  # now it is older than the newest 100
    assert audit.entries(store, owner.account_id, text="zq") == []
    assert audit.count(store, owner.account_id, text="zq") == 0
    # Three characters: the index finds it, however old.
    with store.write() as s:
        s.execute(
            insert(AuditEntry),
            [dict(account_id=owner.account_id, at=T0, actor="xyz", action="x", object_type="x")],
        )
    bulk_insert(store, owner.account_id, 1000)
    assert [r.actor for r in audit.entries(store, owner.account_id, text="xyz")] == ["xyz"]


def test_the_queue_filter_finds_older_event_deliveries_through_the_index(
    store, owner, small_recent
):
    """The delivery log's event deliveries (schema 9): the older rows through the
    FTS5 table, read by primary key; not the account's index (which lists every
    delivery the account ever had)."""
    from store import delivery_states

    from ..helpers import two_webhooks
    from ..store.test_logsearch import _events

    first, second = two_webhooks(store, owner)
    _events(store, owner, second, 300)
    ids = _events(store, owner, first, 300, texts=["quiet"])
    with store.write(owner.account_id) as s:
        s.execute(text(f"UPDATE event_delivery SET last_error = 'zorblax' WHERE id = {ids[-1]}"))
    _analyze(store)
    with statements(store) as seen:
        found = delivery_states.queue_for_webhook(store, owner.account_id, first, 50, "zorblax")
    assert [d.id for d in found] == [ids[-1]]
    plan = _by_index(store, seen, "event_delivery_search")
    if store.is_sqlite:
        assert "VIRTUAL TABLE INDEX" in plan and "USING INTEGER PRIMARY KEY" in plan, plan
        assert "SCAN event_delivery\n" not in plan + "\n"
        assert "ix_event_delivery_account_id" not in plan
    else:
        # The older rows by the trigram indexes' bitmap, not the primary key walked
        # backwards for the LIMIT (which tests every older row when none matches).
        assert "ix_event_delivery_trgm_last_error" in plan, plan
        assert "Bitmap Heap Scan on event_delivery " in plan, plan
        assert "using event_delivery_pkey on event_delivery  " not in plan, plan  # unaliased


def test_the_queue_reads_each_rows_newest_attempt_by_its_index(store, owner):
    """Not a grouping of every attempt of the webhook (it grew with the log), and
    the waiting count by the due index, not the account's every delivery."""
    from store import delivery_states

    from ..helpers import two_webhooks
    from ..queue_world import queued

    hook, _ = two_webhooks(store, owner)
    for _ in range(3):
        queued(store, owner.account_id, hook, "retrying", attempts=2, last_status=503)
    _analyze(store)
    with statements(store) as seen:
        rows = delivery_states.queue_for_webhook(store, owner.account_id, hook)
        status = delivery_states.dispatch_status(store, owner.account_id)
    assert len(rows) == 3 and all(r.last_attempt_id for r in rows)
    assert status.waiting == 3
    listing, counting = [(q, p) for q, p in seen if q.lstrip().upper().startswith("SELECT")]
    assert "GROUP BY" not in listing[0].upper()
    plan = explain(store, *listing)
    count_plan = explain(store, *counting)
    if store.is_sqlite:
        assert "ix_delivery_event_delivery_id" in plan, plan
        assert "SCAN delivery\n" not in plan + "\n"
        assert "ix_event_delivery_due" in count_plan, count_plan
    else:
        assert "ix_delivery_event_delivery_id" in plan, plan
        assert "ix_event_delivery_due" in count_plan, count_plan
