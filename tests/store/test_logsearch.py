"""The logs' indexed search (store/logsearch.py), on SQLite and PostgreSQL: the
same matches as the LIKE filter it replaces, for tricky queries; the index kept
in step with its table on insert, update and delete (retention pruning, a
webhook deleted with its log); keyset pages that return every row once; counts
that stop at their cap.

``logsearch.RECENT`` (the newest rows looked at before the index is used) is
made small here, so that a few dozen rows take both ways of a search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, update
from sqlmodel import col, or_, select

from store import apiaccess, audit, clock, delivery_log, delivery_states, logsearch, webhooks
from store.models import AuditEntry, Delivery, EventDelivery
from store.textmatch import contains, like_pattern

from ..contracts_world import build
from ..helpers import two_webhooks
from ..queue_world import bulk_queued

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)

# Texts that a LIKE or an FTS5 query could get wrong: case, LIKE's own % and _,
# FTS5's syntax and quotes, backslashes, Unicode (case folding SQLite's LIKE does
# not do), characters outside the BMP.
TEXTS = [
    "Alice",
    "ALICE Smith",
    "bob_smith",
    "bob-smith",
    "50% off",
    "5000 off",
    'say "hello"',
    "it's",
    "a\\b",
    "NEAR AND OR NOT",
    "x*y^z",
    "Ünïcødé",
    "ünïcødé names",
    "ÉTÉ été",
    "Straße",
    "名前 日本語",
    "🚀 rocket",
    "col:umn",
    "(paren)",
]
QUERIES = [
    "alice",
    "ALICE",
    "Alic",
    "lice smi",
    "%",
    "50%",
    "_",
    "b_s",
    "bob_",
    "0% o",
    '"hello"',
    '"',
    "it's",
    "'",
    "a\\b",
    "\\",
    "near and",
    "AND",
    "x*y",
    "*",
    "^z",
    "ünï",
    "ÜNÏ",
    "été",
    "ÉTÉ",
    "straße",
    "STRASSE",
    "日本語",
    "日本",
    "本",
    "🚀 r",
    "🚀",
    "col:",
    "(paren",
    "a",
    "al",
    "%_",
    "zz",
    "zzz",
    "nothing at all",
    "  alice  ",
]


@pytest.fixture
def small_recent(monkeypatch):
    monkeypatch.setattr(logsearch, "RECENT", 4)


def _like_audit(store, account_id: int, text: str, *, newest: int | None = None) -> list[int]:
    """The filter as it was before the index: LIKEs over every entry."""
    like = like_pattern(text.strip())
    sqlite = store.is_sqlite
    q = (
        select(AuditEntry.id)
        .where(AuditEntry.account_id == account_id)
        .order_by(col(AuditEntry.id).desc())
    )
    ids = None
    if newest is not None:
        with store.read() as s:
            ids = {r[0] for r in s.execute(q.limit(newest))}
    q = (
        select(AuditEntry.id)
        .where(
            AuditEntry.account_id == account_id,
            or_(
                contains(AuditEntry.actor, like, sqlite),
                contains(AuditEntry.action, like, sqlite),
                contains(AuditEntry.object_type, like, sqlite),
                contains(AuditEntry.object_name, like, sqlite),
            ),
        )
        .order_by(col(AuditEntry.id).desc())
    )
    with store.read() as s:
        found = [r[0] for r in s.execute(q)]
    return [i for i in found if ids is None or i in ids]


def _audit_rows(store, account_id: int) -> None:
    rows = []
    for i, t in enumerate(TEXTS * 3):
        rows.append(
            dict(
                account_id=account_id,
                at=T0 + timedelta(minutes=i),
                actor=t if i % 3 == 0 else "someone",
                action="thing.do" if i % 3 != 1 else t[:60],
                object_type="thing",
                object_id=i,
                object_name=t if i % 3 == 2 else f"Thing {i}",
                detail="",
            )
        )
    with store.write() as s:
        s.execute(insert(AuditEntry), rows)


def test_the_index_finds_what_the_like_filter_found(store, owner, small_recent, monkeypatch):
    aid = owner.account_id
    _audit_rows(store, aid)
    for q in QUERIES:
        short = len(q.strip()) < logsearch.TRIGRAM
        expected = _like_audit(store, aid, q, newest=logsearch.RECENT if short else None)
        got = [r.id for r in audit.entries(store, aid, text=q, limit=5000)]
        assert got == expected, q
        assert audit.count(store, aid, text=q) == len(expected), q
    # Without the small window, a short filter finds what the LIKE found too.
    monkeypatch.setattr(logsearch, "RECENT", 10_000)
    for q in ("a", "al", "%_", "本", "🚀", "_"):
        got = [r.id for r in audit.entries(store, aid, text=q, limit=5000)]
        assert got == _like_audit(store, aid, q), q


def test_every_query_of_a_hostile_text_is_harmless(store, owner, small_recent):
    aid = owner.account_id
    _audit_rows(store, aid)
    for q in ['"""', "a OR b", "NEAR(a b)", "col:x", "-x", "x:", "^", "{a b}", "a AND"]:
        newest = logsearch.RECENT if len(q) < logsearch.TRIGRAM else None
        expected = _like_audit(store, aid, q, newest=newest)
        assert [r.id for r in audit.entries(store, aid, text=q)] == expected, q
        assert audit.count(store, aid, text=q) == len(expected)


def _fts_ids(store, table: int, needle: str) -> list[int]:
    """The ids the SQLite index holds for ``needle`` (empty on PostgreSQL: its
    indexes are the database's own, always in step)."""
    if not store.is_sqlite:
        return []
    with store.read() as s:
        return sorted(r[0] for r in s.execute(logsearch.candidates(logsearch.LOGS[table], needle)))


LOG_OF = {log.table: i for i, log in enumerate(logsearch.LOGS)}


def test_triggers_keep_the_index_in_step(store, owner, small_recent):
    aid = owner.account_id
    _audit_rows(store, aid)
    idx = LOG_OF["audit_entry"]
    before = _fts_ids(store, idx, "rocket")
    assert len(before) == (3 if store.is_sqlite else 0)
    # An update moves the row's trigrams; a delete removes them.
    with store.write() as s:
        s.execute(
            update(AuditEntry).where(col(AuditEntry.actor) == "🚀 rocket").values(actor="🛸 saucer")
        )
    assert audit.count(store, aid, text="saucer") == 1
    assert audit.count(store, aid, text="🛸 s") == 1
    assert audit.count(store, aid, text="rocket") == 2
    with store.write() as s:
        s.execute(
            delete(AuditEntry).where(
                or_(
                    col(AuditEntry.object_name) == "🚀 rocket",
                    col(AuditEntry.action) == "🚀 rocket",
                )
            )
        )
    assert audit.count(store, aid, text="rocket") == 0
    assert _fts_ids(store, idx, "rocket") == []
    assert len(_fts_ids(store, idx, "saucer")) == (1 if store.is_sqlite else 0)


def test_retention_pruning_takes_requests_out_of_the_index(store, owner, small_recent):
    world = build(store, owner)
    clock.fix(T0)
    caller = apiaccess.authenticate(store, world.token)
    aid, iid = world.actor.account_id, world.integration_id

    def log(n: int, at: datetime, path: str) -> None:
        apiaccess.record_requests(
            store,
            [
                apiaccess.LoggedRequest(
                    account_id=aid,
                    integration_id=iid,
                    token_id=caller.token_id,
                    token_hint=caller.token_hint,
                    at=at + timedelta(seconds=i),
                    method="GET",
                    path=f"{path}/{i}",
                    status=200 + i,
                    latency_ms=1.0,
                )
                for i in range(n)
            ],
        )

    log(6, T0 - timedelta(days=40), "/v1/ancient")
    log(6, T0 - timedelta(days=1), "/v1/recent")
    idx = LOG_OF["api_request"]
    assert len(_fts_ids(store, idx, "/v1/ancient")) == (6 if store.is_sqlite else 0)
    found = apiaccess.requests_for_integration(store, aid, iid, text_filter="ANCIENT")
    assert [r.path for r in found] == [f"/v1/ancient/{i}" for i in range(5, -1, -1)]
    assert apiaccess.count_requests(store, aid, iid, text_filter="203") == 2
    assert apiaccess.prune(store) == 6
    assert apiaccess.requests_for_integration(store, aid, iid, text_filter="ancient") == []
    assert _fts_ids(store, idx, "/v1/ancient") == []
    assert apiaccess.count_requests(store, aid, iid, text_filter="203") == 1
    # A token's name matches too, though the index does not hold it.
    named = apiaccess.requests_for_integration(store, aid, iid, text_filter="orders sync")
    assert len(named) == 6


def _deliveries(
    store, owner, hook: int, n: int, *, same_time_every: int = 1, start: datetime = T0
) -> list[int]:
    rows = [
        dict(
            webhook_id=hook,
            callback_id=f"{hook:04d}{i:036d}",
            event_type="contract:sign" if i % 2 else "contract:publish",
            url="https://hooks.example.com/x",
            # Several deliveries share a time: the key's id breaks the tie.
            attempted_at=start + timedelta(seconds=i // same_time_every),
            success=i % 5 != 0,
            status_code=200 if i % 5 else 503,
            latency_ms=20,
            error=None if i % 5 else "HTTP 503",
            request_headers="[]",
            request_body="{}",
            response_excerpt="",
            resend_of_id=None,
        )
        for i in range(n)
    ]
    with store.write(owner.account_id) as s:
        s.execute(insert(Delivery), rows)
    with store.read() as s:
        return [
            r[0]
            for r in s.execute(
                select(Delivery.id)
                .where(Delivery.webhook_id == hook)
                .order_by(col(Delivery.attempted_at).desc(), col(Delivery.id).desc())
            )
        ]


@pytest.mark.parametrize("text", ["", "sign", "503", "fail", "ok", "f", "contract:"])
def test_keyset_pages_return_every_delivery_once(store, owner, small_recent, text):
    first, second = two_webhooks(store, owner)
    _deliveries(store, owner, second, 30)
    newest_first = _deliveries(store, owner, first, 61, same_time_every=3)
    everything = delivery_log.deliveries(store, first, limit=5000, text_filter=text)
    if text not in ("f", "ok"):  # a short filter looks at the newest RECENT only
        expected = [
            d.id
            for d in delivery_log.deliveries(store, first, limit=5000)
            if d.id in {e.id for e in everything}
        ]
        assert [d.id for d in everything] == expected
    seen: list[int] = []
    at = last = None
    while True:
        page = delivery_log.deliveries(
            store, first, limit=7, text_filter=text, before_at=at, before_id=last
        )
        seen += [d.id for d in page]
        if len(page) < 7:
            break
        at, last = page[-1].attempted_at, page[-1].id
    assert seen == [d.id for d in everything]
    assert len(set(seen)) == len(seen)
    if not text:
        assert seen == newest_first
    assert delivery_log.count(store, first, text) == len(everything)
    assert delivery_log.count(store, first, text, cap=3) == min(4, len(everything))


def test_a_deleted_webhook_takes_its_deliveries_out_of_the_index(store, owner, small_recent):
    first, second = two_webhooks(store, owner)
    _deliveries(store, owner, first, 12)
    _deliveries(store, owner, second, 12)
    idx = LOG_OF["delivery"]
    both = _fts_ids(store, idx, "contract:sign")
    assert len(both) == (12 if store.is_sqlite else 0)
    webhooks.delete(store, owner, first)
    assert len(_fts_ids(store, idx, "contract:sign")) == (6 if store.is_sqlite else 0)
    assert len(delivery_log.deliveries(store, second, text_filter="contract:sign")) == 6


def test_keyset_pages_of_the_request_log_return_every_request_once(store, owner, small_recent):
    world = build(store, owner)
    caller = apiaccess.authenticate(store, world.token)
    aid, iid = world.actor.account_id, world.integration_id
    apiaccess.record_requests(
        store,
        [
            apiaccess.LoggedRequest(
                account_id=aid,
                integration_id=iid,
                token_id=caller.token_id,
                token_hint=caller.token_hint,
                at=T0 + timedelta(seconds=i // 4),
                method="POST" if i % 3 == 0 else "GET",
                path=f"/v1/contracts/{i}",
                status=201 if i % 3 == 0 else 200,
                latency_ms=1.0,
            )
            for i in range(45)
        ],
    )
    for text in ("", "post", "201", "/v1/contracts/1"):
        everything = apiaccess.requests_for_integration(
            store, aid, iid, text_filter=text, limit=5000
        )
        seen: list[int] = []
        at = last = None
        while True:
            page = apiaccess.requests_for_integration(
                store, aid, iid, text_filter=text, limit=4, before_at=at, before_id=last
            )
            seen += [r.id for r in page]
            if len(page) < 4:
                break
            at, last = page[-1].at, page[-1].id
        assert seen == [r.id for r in everything], text
        assert len(set(seen)) == len(seen)
        keys = [(r.at, r.id) for r in everything]
        assert keys == sorted(keys, reverse=True)
    assert len(apiaccess.requests_for_integration(store, aid, iid, text_filter="post")) == 15


def test_audit_counts_stop_at_their_cap(store, owner, small_recent):
    aid = owner.account_id
    _audit_rows(store, aid)
    total = audit.count(store, aid)
    assert audit.count(store, aid, cap=10) == 11
    assert audit.count(store, aid, cap=total) == total
    assert audit.count(store, aid, text="someone", cap=5) == 6
    assert audit.count(store, aid, text="someone") == len(_like_audit(store, aid, "someone"))


def test_short_filters_are_said_on_screen():
    assert "newest 10,000 entries only" in logsearch.short_note("a")
    assert "2 characters" in logsearch.short_note(" ab ", "deliveries")
    assert logsearch.short_note("abc") is None and logsearch.short_note("") is None


def _union_sent(store, fn) -> tuple[object, list[bool]]:
    """fn()'s result, and for each statement it sent whether it read the edge
    afresh (the newest key and the edge in one UNION ALL)."""
    from sqlalchemy import event

    sent: list[bool] = []

    def on_execute(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append("UNION ALL" in statement.upper())

    event.listen(store.engine, "before_cursor_execute", on_execute)
    try:
        return fn(), sent
    finally:
        event.remove(store.engine, "before_cursor_execute", on_execute)


def test_the_edge_of_the_newest_rows_is_kept_until_a_row_comes(store, owner, small_recent):
    first, second = two_webhooks(store, owner)
    _deliveries(store, owner, second, 10)
    _deliveries(store, owner, first, 12, same_time_every=3)
    listing = delivery_log._listing(first)

    def fresh_edge():
        with logsearch._EDGES_LOCK:
            logsearch._EDGES.clear()
        with store.read() as s:
            return logsearch.boundary(s, listing, None)

    def found(text: str) -> list[int]:
        return [d.id for d in delivery_log.deliveries(store, first, text_filter=text)]

    expected = {t: found(t) for t in ("si", "sign", "503")}  # each read the edge afresh
    edge = fresh_edge()
    assert edge is not None
    for text in ("si", "sign", "503"):  # a filter typed: the edge is kept
        got, unions = _union_sent(store, lambda t=text: found(t))
        assert got == expected[text]
        assert unions and not any(unions)
    with store.read() as s:
        assert logsearch.boundary(s, listing, None) == edge  # the kept one, same types
    # Another webhook's deliveries are another log: its edge is its own.
    with store.read() as s:
        other = logsearch.boundary(s, delivery_log._listing(second), None)
    assert other is not None and other != edge
    # One logged out of order (an attempt begun before the newest) leaves the
    # newest row the newest: the edge is kept, and the matches are the same.
    _deliveries(store, owner, first, 1)
    assert found("sign") == [d.id for d in delivery_log.deliveries(store, first, 5000, "sign")]
    # A new delivery moves the edge: read afresh, and kept again after.
    _deliveries(store, owner, first, 1, start=T0 + timedelta(days=1))
    later, unions = _union_sent(store, lambda: found("si"))
    assert any(unions)
    got, unions = _union_sent(store, lambda: found("si"))
    assert got == later
    assert unions and not any(unions)
    with store.read() as s:
        kept = logsearch.boundary(s, listing, None)
    assert kept == fresh_edge() != edge
    assert found("si") == later  # the same as with the edge read afresh


# -- the delivery log's event deliveries (schema 9) -------------------------------------


def _events(store, owner, hook: int, n: int, texts=TEXTS) -> list[int]:
    """``n`` event deliveries of ``hook`` in every state, the texts in their event
    type and last error; their ids, newest first."""
    states = ("pending", "sending", "delivered", "retrying", "exhausted", "cancelled")
    bulk_queued(
        store,
        owner.account_id,
        hook,
        [
            dict(
                callback_id=f"{hook:04d}{i:036d}",
                event_type=texts[i % len(texts)][:60] if i % 2 else "contract:sign",
                state=states[i % len(states)],
                attempts=i % 4,
                created_at=T0 + timedelta(seconds=i),
                last_error=None if i % 3 == 0 else texts[(i * 7) % len(texts)],
            )
            for i in range(n)
        ],
    )
    with store.read() as s:
        q = select(EventDelivery.id).where(EventDelivery.webhook_id == hook)
        return [r[0] for r in s.execute(q.order_by(col(EventDelivery.id).desc()))]


def _like_queue(store, hook: int, text: str, *, newest: int | None = None) -> list[int]:
    """The queue's filter as it was before the index: LIKEs over every row."""
    like = like_pattern(text.strip())
    sqlite = store.is_sqlite
    cols = (
        EventDelivery.event_type,
        EventDelivery.callback_id,
        EventDelivery.state,
        EventDelivery.last_error,
    )
    q = (
        select(EventDelivery.id)
        .where(EventDelivery.webhook_id == hook, or_(*(contains(c, like, sqlite) for c in cols)))
        .order_by(col(EventDelivery.id).desc())
    )
    with store.read() as s:
        found = [r[0] for r in s.execute(q)]
        if newest is None:
            return found
        recent = select(EventDelivery.id).where(EventDelivery.webhook_id == hook)
        ids = {r[0] for r in s.execute(recent.order_by(col(EventDelivery.id).desc()).limit(newest))}
    return [i for i in found if i in ids]


def test_the_queue_index_finds_what_the_like_filter_found(store, owner, small_recent):
    first, second = two_webhooks(store, owner)
    _events(store, owner, second, 20)
    _events(store, owner, first, len(TEXTS) * 3)
    aid = owner.account_id
    for q in [*QUERIES, "retrying", "RETRY", "exhausted", "contract:s", "0001000"]:
        short = len(q.strip()) < logsearch.TRIGRAM
        expected = _like_queue(store, first, q, newest=logsearch.RECENT if short else None)
        got = [d.id for d in delivery_states.queue_for_webhook(store, aid, first, 5000, q)]
        assert got == expected, q
    # The other webhook's rows are not in this one's log, nor another account's.
    assert len(delivery_states.queue_for_webhook(store, aid, first, 5000, "00020000")) == 0
    assert delivery_states.queue_for_webhook(store, aid + 1000, first, 5000) == []
    assert delivery_states.queue_for_webhook(store, aid + 1000, first, 5000, "retr") == []


def test_keyset_pages_of_the_queue_return_every_delivery_once(store, owner, small_recent):
    first, second = two_webhooks(store, owner)
    _events(store, owner, second, 9)
    newest_first = _events(store, owner, first, 40)
    aid = owner.account_id
    for text in ("", "retrying", "alice", "http", "de"):
        everything = delivery_states.queue_for_webhook(store, aid, first, 5000, text)
        seen: list[int] = []
        last = None
        while True:
            page = delivery_states.queue_for_webhook(store, aid, first, 6, text, before_id=last)
            seen += [d.id for d in page]
            if len(page) < 6:
                break
            last = page[-1].id
        assert seen == [d.id for d in everything], text
        assert len(set(seen)) == len(seen)
        assert seen == [i for i in newest_first if i in set(seen)]
    assert [d.id for d in delivery_states.queue_for_webhook(store, aid, first, 5000)] == (
        newest_first
    )


def test_a_state_change_moves_the_queue_row_in_the_index(store, owner, small_recent):
    first, _second = two_webhooks(store, owner)
    ids = _events(store, owner, first, 12, texts=["quiet"])
    aid = owner.account_id

    def found(text: str) -> list[int]:
        return [d.id for d in delivery_states.queue_for_webhook(store, aid, first, 5000, text)]

    oldest = ids[-1]  # beyond the newest RECENT rows: found by the index only
    assert oldest not in found("retrying")
    with store.write(aid) as s:
        s.execute(
            update(EventDelivery)
            .where(col(EventDelivery.id) == oldest)
            .values(state="retrying", last_error="Timeout: the zorblax answered late")
        )
    assert oldest in found("retrying")
    assert found("zorblax") == [oldest]
    assert found("ZORBLAX ANS") == [oldest]
    idx = LOG_OF["event_delivery"]
    assert _fts_ids(store, idx, "zorblax") == ([oldest] if store.is_sqlite else [])
    with store.write(aid) as s:
        s.execute(delete(EventDelivery).where(col(EventDelivery.id) == oldest))
    assert found("zorblax") == []
    assert _fts_ids(store, idx, "zorblax") == []


def test_a_schema_8_database_gets_its_event_deliveries_indexed(db_url, store, owner, capfd):
    """The upgrade to schema 9 (store/migrations/versions/0009) indexes the event
    deliveries already there; the filter then finds the oldest by the index."""
    from sqlalchemy import text as sql

    from store.db import Store

    first, _second = two_webhooks(store, owner)
    ids = _events(store, owner, first, 30, texts=["quiet"])
    with store.engine.begin() as conn:
        if store.is_sqlite:
            for trigger in ("insert", "delete", "update"):
                conn.execute(sql(f"DROP TRIGGER event_delivery_search_{trigger}"))
            conn.execute(sql("DROP TABLE event_delivery_search"))
        else:
            for name, _ in logsearch.EVENT_DELIVERY.pg_indexes():
                conn.execute(sql(f"DROP INDEX {name}"))
        conn.execute(sql("UPDATE meta SET value = '8' WHERE key = 'schema_version'"))
        conn.execute(sql("UPDATE alembic_version SET version_num = '0008'"))
        conn.execute(
            update(EventDelivery).where(col(EventDelivery.id) == ids[-1]).values(last_error="zorb")
        )
    store.dispose()
    again = Store(db_url)
    again.prepare()
    try:
        assert again.upgraded_from == 8
        aid = owner.account_id
        with logsearch._EDGES_LOCK:
            logsearch._EDGES.clear()
        assert [d.id for d in delivery_states.queue_for_webhook(again, aid, first, 50, "zorb")] == [
            ids[-1]
        ]
        if again.is_sqlite:
            quiet = _fts_ids(again, LOG_OF["event_delivery"], "quiet")
            assert len(quiet) > 15 and quiet == sorted(_like_queue(again, first, "quiet"))
        else:
            with again.engine.connect() as conn:
                names = {
                    r[0]
                    for r in conn.execute(
                        sql("SELECT relname FROM pg_class WHERE relname LIKE :n"),
                        {"n": "ix_event_delivery_trgm%"},
                    )
                }
            assert names == {n for n, _ in logsearch.EVENT_DELIVERY.pg_indexes()}
    finally:
        again.dispose()
