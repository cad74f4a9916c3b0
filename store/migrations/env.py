"""Alembic's environment for integrations-admin.

The program runs the migrations itself (``store.migrations.upgrade``), passing
its own connection, inside the transaction that holds the schema lock: then the
whole upgrade commits or rolls back as one. The ``alembic`` command line (for
maintainers writing a new revision) opens the database the program would open.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from store import models  # noqa: F401  (registers the tables on SQLModel.metadata)


def run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        # SQLite alters most things by rebuilding the table: batch mode does that.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if _connection is not None:
    run(_connection)
else:  # pragma: no cover - the maintainer's `alembic` command line
    from store.db import Store

    _store = Store()
    with _store.engine.begin() as conn:
        run(conn)
    _store.dispose()
