"""Versioned schema upgrades, with Alembic, run by the program itself.

``Store.prepare`` (store/db.py) decides whether an upgrade is needed from the
cheap ``meta.schema_version`` row, so Alembic is imported only when a database
of an older schema is opened. The upgrade runs on the caller's connection,
inside the caller's transaction (which holds the schema lock), so it commits
whole or not at all.

Revisions live in ``versions/`` and are numbered: revision ``0002`` is schema
version 2. A database of schema 1 predates Alembic (it has no
``alembic_version`` table): it is stamped ``0001`` first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def config(connection: Any = None) -> Any:
    """An Alembic Config pointing at this folder (no alembic.ini needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision in versions/."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(config()).get_current_head()
    assert head is not None
    return head


def revision_of(version: int) -> str:
    return f"{version:04d}"


def upgrade(connection: Any, from_version: int) -> None:
    """Upgrade a schema of ``from_version`` to the newest revision, on
    ``connection`` and inside its open transaction."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    cfg = config(connection)
    if MigrationContext.configure(connection).get_current_revision() is None:
        command.stamp(cfg, revision_of(from_version))
    command.upgrade(cfg, "head")
