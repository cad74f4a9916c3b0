"""Schema 7: the logs' search indexes (issue 19; store/logsearch.py).

The audit log, the delivery log and the API request log are filtered by
substring. Until schema 6 a filter read every row of the log; from schema 7
an index finds the candidates:

- SQLite: an FTS5 table per log with the ``trigram`` tokenizer, contentless,
  kept in step with its table by triggers on insert, update and delete; the
  rows already there are indexed here, a chunk of ids at a time, with
  progress on stderr for a large log;
- PostgreSQL: the ``pg_trgm`` extension (created when the database user may)
  and GIN trigram indexes on ``lower(column)`` of the filtered columns. When
  the extension cannot be created the upgrade goes on without the indexes
  and says so on stderr: the filters then scan, as in schema 4.

The statements are written out here as they were at this revision, so that a
later change of store/logsearch.py does not change what this upgrade did.
No table of the models changes.
"""

from __future__ import annotations

import sys

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SQLITE_DDL = {
    "api_request": [
        "CREATE VIRTUAL TABLE api_request_search USING fts5(path, method, "
        "token_hint, status, content='', tokenize='trigram')",
        "CREATE TRIGGER api_request_search_insert AFTER INSERT ON api_request "
        "BEGIN INSERT INTO api_request_search(rowid, path, method, token_hint, "
        "status) VALUES (new.id, new.path, new.method, new.token_hint, "
        "CAST(new.status AS TEXT)); END",
        "CREATE TRIGGER api_request_search_delete AFTER DELETE ON api_request "
        "BEGIN INSERT INTO api_request_search(api_request_search, rowid, path, "
        "method, token_hint, status) VALUES ('delete', old.id, old.path, "
        "old.method, old.token_hint, CAST(old.status AS TEXT)); END",
        "CREATE TRIGGER api_request_search_update AFTER UPDATE OF method, path, "
        "status, token_hint ON api_request BEGIN INSERT INTO "
        "api_request_search(api_request_search, rowid, path, method, token_hint, "
        "status) VALUES ('delete', old.id, old.path, old.method, old.token_hint, "
        "CAST(old.status AS TEXT)); INSERT INTO api_request_search(rowid, path, "
        "method, token_hint, status) VALUES (new.id, new.path, new.method, "
        "new.token_hint, CAST(new.status AS TEXT)); END",
    ],
    "audit_entry": [
        "CREATE VIRTUAL TABLE audit_entry_search USING fts5(actor, action, "
        "object_type, object_name, content='', tokenize='trigram')",
        "CREATE TRIGGER audit_entry_search_insert AFTER INSERT ON audit_entry "
        "BEGIN INSERT INTO audit_entry_search(rowid, actor, action, object_type, "
        "object_name) VALUES (new.id, new.actor, new.action, new.object_type, "
        "new.object_name); END",
        "CREATE TRIGGER audit_entry_search_delete AFTER DELETE ON audit_entry "
        "BEGIN INSERT INTO audit_entry_search(audit_entry_search, rowid, actor, "
        "action, object_type, object_name) VALUES ('delete', old.id, old.actor, "
        "old.action, old.object_type, old.object_name); END",
        "CREATE TRIGGER audit_entry_search_update AFTER UPDATE OF action, actor, "
        "object_name, object_type ON audit_entry BEGIN INSERT INTO "
        "audit_entry_search(audit_entry_search, rowid, actor, action, "
        "object_type, object_name) VALUES ('delete', old.id, old.actor, "
        "old.action, old.object_type, old.object_name); INSERT INTO "
        "audit_entry_search(rowid, actor, action, object_type, object_name) "
        "VALUES (new.id, new.actor, new.action, new.object_type, "
        "new.object_name); END",
    ],
    "delivery": [
        "CREATE VIRTUAL TABLE delivery_search USING fts5(event_type, callback_id, "
        "error, status, result, content='', tokenize='trigram')",
        "CREATE TRIGGER delivery_search_insert AFTER INSERT ON delivery BEGIN INSERT "
        "INTO delivery_search(rowid, event_type, callback_id, error, status, result) "
        "VALUES (new.id, new.event_type, new.callback_id, new.error, "
        "CAST(new.status_code AS TEXT), CASE WHEN new.success THEN 'ok' ELSE "
        "'failed' END); END",
        "CREATE TRIGGER delivery_search_delete AFTER DELETE ON delivery BEGIN INSERT "
        "INTO delivery_search(delivery_search, rowid, event_type, callback_id, "
        "error, status, result) VALUES ('delete', old.id, old.event_type, "
        "old.callback_id, old.error, CAST(old.status_code AS TEXT), CASE WHEN "
        "old.success THEN 'ok' ELSE 'failed' END); END",
        "CREATE TRIGGER delivery_search_update AFTER UPDATE OF callback_id, error, "
        "event_type, status_code, success ON delivery BEGIN INSERT INTO "
        "delivery_search(delivery_search, rowid, event_type, callback_id, error, "
        "status, result) VALUES ('delete', old.id, old.event_type, old.callback_id, "
        "old.error, CAST(old.status_code AS TEXT), CASE WHEN old.success THEN 'ok' "
        "ELSE 'failed' END); INSERT INTO delivery_search(rowid, event_type, "
        "callback_id, error, status, result) VALUES (new.id, new.event_type, "
        "new.callback_id, new.error, CAST(new.status_code AS TEXT), CASE WHEN "
        "new.success THEN 'ok' ELSE 'failed' END); END",
    ],
}

# (FTS table, the statement that indexes the rows with :low <= id < :high)
SQLITE_FILL = {
    "api_request": (
        "api_request_search",
        "INSERT INTO api_request_search(rowid, path, method, token_hint, status) "
        "SELECT id, api_request.path, api_request.method, api_request.token_hint, "
        "CAST(api_request.status AS TEXT) FROM api_request WHERE id >= :low AND "
        "id < :high",
    ),
    "audit_entry": (
        "audit_entry_search",
        "INSERT INTO audit_entry_search(rowid, actor, action, object_type, "
        "object_name) SELECT id, audit_entry.actor, audit_entry.action, "
        "audit_entry.object_type, audit_entry.object_name FROM audit_entry WHERE "
        "id >= :low AND id < :high",
    ),
    "delivery": (
        "delivery_search",
        "INSERT INTO delivery_search(rowid, event_type, callback_id, error, status, "
        "result) SELECT id, delivery.event_type, delivery.callback_id, "
        "delivery.error, CAST(delivery.status_code AS TEXT), CASE WHEN "
        "delivery.success THEN 'ok' ELSE 'failed' END FROM delivery WHERE id >= :low "
        "AND id < :high",
    ),
}

PG_INDEXES = {
    "api_request": [
        ("ix_api_request_trgm_path", "lower(api_request.path)"),
        ("ix_api_request_trgm_method", "lower(api_request.method)"),
        ("ix_api_request_trgm_token_hint", "lower(api_request.token_hint)"),
    ],
    "audit_entry": [
        ("ix_audit_entry_trgm_actor", "lower(audit_entry.actor)"),
        ("ix_audit_entry_trgm_action", "lower(audit_entry.action)"),
        ("ix_audit_entry_trgm_object_type", "lower(audit_entry.object_type)"),
        ("ix_audit_entry_trgm_object_name", "lower(audit_entry.object_name)"),
    ],
    "delivery": [
        ("ix_delivery_trgm_event_type", "lower(delivery.event_type)"),
        ("ix_delivery_trgm_callback_id", "lower(delivery.callback_id)"),
        ("ix_delivery_trgm_error", "lower(delivery.error)"),
    ],
}

CHUNK = 100_000  # ids indexed per statement on SQLite
LARGE = 200_000  # from here the upgrade says how far it got

PG_REFUSED = (
    "PostgreSQL refused to create the pg_trgm extension in this database ({reason}): "
    "the audit, delivery and API request logs are filtered without an index, which "
    "is slow on long logs. A database superuser can run CREATE EXTENSION pg_trgm; "
    "in it, and then the indexes of store/migrations/versions/0005_search_indexes.py."
)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        for table, statements in SQLITE_DDL.items():
            for stmt in statements:
                conn.exec_driver_sql(stmt)
            top = conn.exec_driver_sql(f"SELECT max(id) FROM {table}").scalar() or 0
            _, fill = SQLITE_FILL[table]
            for low in range(0, top + 1, CHUNK):
                conn.exec_driver_sql(
                    fill.replace(":low", str(low)).replace(":high", str(low + CHUNK))
                )
                if top >= LARGE:
                    _say(f"Indexing {table} for search: {min(top, low + CHUNK):,} of {top:,}")
        return
    have = conn.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").scalar()
    if not have:
        try:
            with conn.begin_nested():
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
            _say(PG_REFUSED.format(reason=reason))
            return
    for table, indexes in PG_INDEXES.items():
        rows = conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() or 0
        for name, expr in indexes:
            if rows >= LARGE:
                _say(f"Indexing {table} for search ({rows:,} rows): {name}")
            conn.exec_driver_sql(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expr} gin_trgm_ops)"
            )


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        for table in SQLITE_DDL:
            fts, _ = SQLITE_FILL[table]
            for trigger in ("insert", "delete", "update"):
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {fts}_{trigger}")
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {fts}")
        return
    for indexes in PG_INDEXES.values():
        for name, _ in indexes:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
