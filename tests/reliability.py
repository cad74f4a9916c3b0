"""Helpers for the reliability tests: database dumps, v1 databases, processes."""

from __future__ import annotations

import multiprocessing
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, select
from sqlalchemy.engine import Connection, make_url
from sqlmodel import SQLModel

from store import models  # noqa: F401  (registers the tables)

DATA = Path(__file__).parent / "data"
V1_SQLITE = DATA / "schema_v1.sqlite"
V1_PG_SQL = DATA / "schema_v1.pg.sql"


def rows(conn: Connection, tables: Any = None) -> dict[str, list[tuple]]:
    """Every row of ``tables`` (default: the program's tables), in key order."""
    out = {}
    for table in tables if tables is not None else SQLModel.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    return out


def dump(store) -> dict[str, list[tuple]]:
    """The whole content of a store's database, to compare before and after a call."""
    with store.engine.connect() as conn:
        return rows(conn)


def reflected_rows(url: str) -> dict[str, dict[str, list[dict]]]:
    """Every row of every table as the database itself describes them (no models)."""
    eng = create_engine(url)
    try:
        with eng.connect() as conn:
            md = MetaData()
            md.reflect(conn)
            return {
                t.name: [dict(r._mapping) for r in conn.execute(select(t).order_by(*t.primary_key))]
                for t in md.sorted_tables
            }
    finally:
        eng.dispose()


def load_v1(url: str) -> None:
    """Put the schema-1 database (made by release 0.1.0) at ``url``, which is empty."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        shutil.copyfile(V1_SQLITE, parsed.database)
        return
    import psycopg

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(V1_PG_SQL.read_text())  # no parameters: the simple query protocol


def spawn_pool(n: int = 2):
    """Real processes (spawn: nothing shared with the test process)."""
    return multiprocessing.get_context("spawn").Pool(n)
