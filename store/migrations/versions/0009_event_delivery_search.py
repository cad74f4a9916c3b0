"""Schema 9: the search index of the webhooks' event deliveries (issue 19;
store/logsearch.py ``EVENT_DELIVERY``).

The delivery log of a webhook lists its event deliveries (one per event, with
its state and last error) beside its Tests. Until schema 8 a filter of the log
read every event delivery of the webhook, and the list read every attempt of
the webhook to find each row's newest (0.35-0.8 s a keystroke at 200,000
events). From schema 9 the event deliveries have the search index the other
logs got in schema 7:

- SQLite: an FTS5 table with the ``trigram`` tokenizer, contentless, kept in
  step with ``event_delivery`` by triggers (a state change re-indexes its
  row); the rows already there are indexed here, a chunk of ids at a time,
  with progress on stderr for a large queue;
- PostgreSQL: GIN trigram indexes on ``lower(column)`` of the filtered
  columns, when the ``pg_trgm`` extension is there or can be created (else
  the upgrade goes on without them and says so on stderr: the filter scans).

The list reads each event delivery's newest attempt as ``max(delivery.id)`` of
its attempts: the index on ``delivery.event_delivery_id`` gets the id as its
second column (``ix_delivery_event_delivery_id``, rebuilt), without which
PostgreSQL answers that ``max`` by walking the primary key backwards.

The statements are written out as they were at this revision. No column of
the models changes.
"""

from __future__ import annotations

import sys

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLE = "event_delivery"
FTS = "event_delivery_search"
SQLITE_DDL = [
    (
        "CREATE VIRTUAL TABLE event_delivery_search USING fts5(event_type, "
        "callback_id, state, last_error, content='', tokenize='trigram')"
    ),
    (
        "CREATE TRIGGER event_delivery_search_insert AFTER INSERT ON event_delivery "
        "BEGIN INSERT INTO event_delivery_search(rowid, event_type, callback_id, "
        "state, last_error) VALUES (new.id, new.event_type, new.callback_id, "
        "new.state, new.last_error); END"
    ),
    (
        "CREATE TRIGGER event_delivery_search_delete AFTER DELETE ON event_delivery "
        "BEGIN INSERT INTO event_delivery_search(event_delivery_search, rowid, "
        "event_type, callback_id, state, last_error) VALUES ('delete', old.id, "
        "old.event_type, old.callback_id, old.state, old.last_error); END"
    ),
    (
        "CREATE TRIGGER event_delivery_search_update AFTER UPDATE OF callback_id, "
        "event_type, last_error, state ON event_delivery BEGIN INSERT INTO "
        "event_delivery_search(event_delivery_search, rowid, event_type, callback_id,"
        " state, last_error) VALUES ('delete', old.id, old.event_type, "
        "old.callback_id, old.state, old.last_error); INSERT INTO "
        "event_delivery_search(rowid, event_type, callback_id, state, last_error) "
        "VALUES (new.id, new.event_type, new.callback_id, new.state, new.last_error);"
        " END"
    ),
]
# Indexes the rows with :low <= id < :high.
SQLITE_FILL = (
    "INSERT INTO event_delivery_search(rowid, event_type, callback_id, state, "
    "last_error) SELECT id, event_delivery.event_type, "
    "event_delivery.callback_id, event_delivery.state, event_delivery.last_error "
    "FROM event_delivery WHERE id >= :low AND id < :high"
)
PG_INDEXES = [
    ("ix_event_delivery_trgm_event_type", "lower(event_delivery.event_type)"),
    ("ix_event_delivery_trgm_callback_id", "lower(event_delivery.callback_id)"),
    ("ix_event_delivery_trgm_state", "lower(event_delivery.state)"),
    ("ix_event_delivery_trgm_last_error", "lower(event_delivery.last_error)"),
]

CHUNK = 100_000  # ids indexed per statement on SQLite
LARGE = 200_000  # from here the upgrade says how far it got

PG_REFUSED = (
    "PostgreSQL refused to create the pg_trgm extension in this database ({reason}): "
    "the delivery log's event deliveries are filtered without an index, which is "
    "slow on a long log. A database superuser can run CREATE EXTENSION pg_trgm; in "
    "it: the program then builds the indexes when it next opens the database."
)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


ATTEMPTS_INDEX = "ix_delivery_event_delivery_id"


def upgrade() -> None:
    conn = op.get_bind()
    conn.exec_driver_sql(f"DROP INDEX IF EXISTS {ATTEMPTS_INDEX}")
    conn.exec_driver_sql(f"CREATE INDEX {ATTEMPTS_INDEX} ON delivery (event_delivery_id, id)")
    if conn.dialect.name == "sqlite":
        for stmt in SQLITE_DDL:
            conn.exec_driver_sql(stmt)
        top = conn.exec_driver_sql(f"SELECT max(id) FROM {TABLE}").scalar() or 0
        for low in range(1, top + 1, CHUNK):  # ids from 1
            conn.exec_driver_sql(
                SQLITE_FILL.replace(":low", str(low)).replace(":high", str(low + CHUNK))
            )
            if top >= LARGE:
                _say(f"Indexing {TABLE} for search: {min(top, low + CHUNK - 1):,} of {top:,}")
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
    rows = conn.exec_driver_sql(f"SELECT count(*) FROM {TABLE}").scalar() or 0
    for name, expr in PG_INDEXES:
        if rows >= LARGE:
            _say(f"Indexing {TABLE} for search ({rows:,} rows): {name}")
        conn.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} USING gin ({expr} gin_trgm_ops)"
        )


def downgrade() -> None:
    conn = op.get_bind()
    conn.exec_driver_sql(f"DROP INDEX IF EXISTS {ATTEMPTS_INDEX}")
    conn.exec_driver_sql(f"CREATE INDEX {ATTEMPTS_INDEX} ON delivery (event_delivery_id)")
    if conn.dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {FTS}_{trigger}")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {FTS}")
        return
    for name, _ in PG_INDEXES:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
