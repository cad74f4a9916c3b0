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

DATA = Path(__file__).resolve().parents[1] / "data"
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


# -- two administrators at once: real processes ------------------------------------


def outcome(fn, *args, **kwargs) -> str:
    """'ok', or the domain error's class and message; anything else is 'CRASH ...'."""
    from store.errors import DomainError

    try:
        fn(*args, **kwargs)
    except DomainError as exc:
        return f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # the test fails on these: never a crash
        return f"CRASH {type(exc).__name__}: {exc}"
    return "ok"


def _serve(barrier, tasks, results, index) -> None:
    import traceback

    while (task := tasks.get()) is not None:
        fn, args = task
        try:
            results.put((index, fn(barrier, *args)))
        except BaseException:
            results.put((index, f"CRASH {traceback.format_exc()}"))


class ProcessPair:
    """Two long-lived spawned processes (nothing shared with the test process but
    the database) that run one function each at a time; a barrier lets them
    start their racing part at the same moment. Kept for a whole test module so
    each test pays for the work, not for starting Python twice."""

    def __init__(self, timeout: float = 120) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.timeout = timeout
        self.barrier = ctx.Barrier(2, timeout=timeout)
        self.tasks = [ctx.Queue(), ctx.Queue()]
        self.results = ctx.Queue()
        self.procs = [
            ctx.Process(target=_serve, args=(self.barrier, q, self.results, i), daemon=True)
            for i, q in enumerate(self.tasks)
        ]
        for p in self.procs:
            p.start()

    def run(self, fn, args_a: tuple, args_b: tuple) -> list:
        """``fn(barrier, *args_a)`` in one process and ``fn(barrier, *args_b)`` in
        the other; what each returned (or 'CRASH <traceback>')."""
        self.tasks[0].put((fn, args_a))
        self.tasks[1].put((fn, args_b))
        results = dict(self.results.get(timeout=self.timeout) for _ in range(2))
        if any(isinstance(r, str) and r.startswith("CRASH") for r in results.values()):
            self.barrier.reset()
        return [results[0], results[1]]

    def close(self) -> None:
        for q in self.tasks:
            q.put(None)
        for p in self.procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()


def race_blueprints(barrier, url: str, actor, integration_id: int, tag: str) -> list[str]:
    """Create custom blueprints until refused; the outcome of each call."""
    from store import blueprints
    from store.db import Store

    store = Store(url)
    store.prepare()
    barrier.wait()
    out: list[str] = []
    n = 0
    while not out or out[-1] == "ok":
        n += 1
        out.append(outcome(blueprints.create, store, actor, integration_id, name=f"{tag} {n}"))
        assert n < 1000
    store.dispose()
    return out


def race_data_fields(barrier, url: str, actor, playbook_id: int, tag: str) -> list[str]:
    """Add data fields to one playbook until refused."""
    from store import playbooks
    from store.db import Store

    store = Store(url)
    store.prepare()
    barrier.wait()
    out: list[str] = []
    n = 0
    while not out or out[-1] == "ok":
        n += 1
        out.append(outcome(playbooks.add_data_field, store, actor, playbook_id, name=f"{tag} {n}"))
        assert n < 1000
    store.dispose()
    return out


def race_same_field(barrier, url: str, actor, field_id: int, tag: str, rounds: int) -> list[str]:
    """Each round: both read the field, then both save their edit with the
    version they read, at the same moment."""
    from store import blueprints
    from store.db import Store
    from store.models import BlueprintField

    store = Store(url)
    store.prepare()
    out: list[str] = []
    for r in range(rounds):
        barrier.wait()
        with store.read() as s:
            f = s.get(BlueprintField, field_id)
            assert f is not None
            seen = f.version
        barrier.wait()
        out.append(
            outcome(
                blueprints.update_field,
                store,
                actor,
                field_id,
                name=f"{tag} round {r}",
                description=f"edited by {tag}",
                version=seen,
            )
        )
    store.dispose()
    return out


def open_together(barrier, url: str) -> tuple[bool, int | None]:
    """Open (and so create or upgrade) the database at the same moment as another."""
    from store.db import Store

    store = Store(url)
    barrier.wait()
    store.prepare()
    store.dispose()
    return store.created, store.upgraded_from


# -- faults ----------------------------------------------------------------------------


def killable_writer(url: str, login: str, blueprint_id: int, mode: str) -> None:
    """Run in a child process that the test kills with SIGKILL.

    ``hold``: write 50 fields and their audit entries in one transaction, say
    ``holding`` and wait, uncommitted. ``stream``: add fields one call at a
    time, printing how many calls returned.
    """
    import time

    from store import accounts, audit, blueprints, clock
    from store.db import Store
    from store.models import BlueprintField

    store = Store(url)
    store.prepare()
    actor = accounts.sign_in(store, login)
    if mode == "hold":
        with store.write(actor.account_id) as s:
            for n in range(50):
                f = BlueprintField(
                    blueprint_id=blueprint_id, name=f"Uncommitted {n}", created_at=clock.now()
                )
                s.add(f)
                s.flush()
                audit.record(
                    s,
                    account_id=actor.account_id,
                    actor=login,
                    action="field.create",
                    object_type="blueprint_field",
                    object_id=f.id,
                )
            print("holding", flush=True)
            time.sleep(120)
        return
    n = 0
    while True:
        blueprints.add_field(store, actor, blueprint_id, name=f"Field {n}", description="x" * 500)
        n += 1
        print(n, flush=True)
