"""Faults: the program killed in the middle of a write, a PostgreSQL restart
while a store is open, a read-only SQLite file, a full disk.

Each leaves the database consistent and gives the administrator a message
that says what is wrong (StoreUnavailable), never a driver's traceback.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlmodel import func, select

from store import accounts, audit, blueprints, marketplace
from store.catalog import CUSTOM_KEY
from store.db import Store
from store.errors import DomainError, StoreUnavailable, Unreachable
from store.models import AuditEntry, BlueprintField

from . import dump

ROOT = Path(__file__).resolve().parents[2]
PGBIN = Path("/usr/lib/postgresql/15/bin")


def _consistent(store: Store) -> tuple[int, int]:
    """Check the database's own consistency; return (fields, field.create entries)."""
    with store.engine.connect() as conn:
        if store.is_sqlite:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
    with store.read() as s:
        fields = s.exec(select(func.count()).select_from(BlueprintField)).one()
        created = s.exec(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "field.create")
        ).one()
    return fields, created


def _child(store: Store, owner, blueprint_id: int, mode: str) -> subprocess.Popen:
    code = (
        "from tests.reliability import killable_writer; "
        f"killable_writer({store.url!r}, {owner.login!r}, {blueprint_id}, {mode!r})"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )


@pytest.fixture
def blueprint(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    return blueprints.create(store, owner, iid, name="Orders")


def test_sigkill_inside_an_open_write_leaves_nothing_of_it(store, owner, blueprint):
    child = _child(store, owner, blueprint.id, "hold")
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "holding"  # 50 rows written, not committed
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    assert _consistent(store) == (0, 0)
    # The killed program's lock died with it: the next write does not wait for it.
    quick = Store(store.url, lock_timeout_s=5)
    blueprints.add_field(quick, owner, blueprint.id, name="After the kill")
    assert _consistent(quick) == (1, 1)
    quick.dispose()


def test_sigkill_at_any_moment_of_a_stream_of_writes(store, owner, blueprint):
    child = _child(store, owner, blueprint.id, "stream")
    returned = 0
    try:
        assert child.stdout is not None
        while returned < 40:
            returned = int(child.stdout.readline())
    finally:
        child.send_signal(signal.SIGKILL)  # somewhere inside a later call
        child.wait(timeout=30)

    fields, created = _consistent(store)
    # Every call is one transaction: a field exists exactly when its audit entry does.
    assert fields == created
    assert fields >= returned  # every call that returned is kept ...
    names = {f.name for f in blueprints.detail(store, owner.account_id, blueprint.id).fields}
    assert names == {f"Field {n}" for n in range(fields)}  # ... and no half of the next one
    blueprints.add_field(store, owner, blueprint.id, name="After the kill")


# -- PostgreSQL restart ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnPostgres:
    """A throwaway PostgreSQL cluster this test may stop and start."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="ia-pg-restart-"))
        shutil.chown(self.dir, "postgres")
        self.port = _free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self._pg("initdb", "-D", self.dir / "data", "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()

    def fresh_database(self, name: str) -> str:
        import psycopg

        admin = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def _pg(self, tool: str, *args) -> None:
        cmd = ["runuser", "-u", "postgres", "--", str(PGBIN / tool), *map(str, args)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off"
        self._pg(
            "pg_ctl", "-D", self.dir / "data", "-l", self.dir / "log", "-o", opts, "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "-D", self.dir / "data", "-m", mode, "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def own_pg():
    if os.geteuid() != 0 or not (PGBIN / "initdb").exists():
        pytest.skip("needs root and PostgreSQL 15 binaries to run a throwaway server (CI has both)")
    pg = OwnPostgres()
    yield pg
    pg.remove()


def test_postgresql_restart_says_unavailable_then_recovers(own_pg):
    st = Store(own_pg.fresh_database("restart"))
    st.prepare()
    alice = accounts.sign_in(st, "alice")
    iid = marketplace.enable(st, alice, CUSTOM_KEY)
    blueprints.create(st, alice, iid, name="Before")

    own_pg.stop()
    unavailable = f"Cannot reach the database at {st.server}"
    with pytest.raises(Unreachable) as err:
        blueprints.create(st, alice, iid, name="While down")
    assert str(err.value).startswith(unavailable)
    assert str(err.value).endswith(
        "Check that the server is running and that the network reaches it."
    )
    assert err.value.where == st.server
    with pytest.raises(Unreachable) as err:
        blueprints.all_for_account(st, alice.account_id)
    assert str(err.value).startswith(unavailable)

    own_pg.start()  # the same Store, no restart of the program
    blueprints.create(st, alice, iid, name="After")
    assert [b.name for b in blueprints.all_for_account(st, alice.account_id)] == ["After", "Before"]

    # A restart between two actions is not even noticed (dead connections are replaced).
    own_pg.stop()
    own_pg.start()
    blueprints.create(st, alice, iid, name="After restart")
    assert len(blueprints.all_for_account(st, alice.account_id)) == 3
    assert [e.object_name for e in audit.entries(st, alice.account_id)][:3] == [
        "After restart",
        "After",
        "Before",
    ]
    st.dispose()


# -- read-only file, full disk (SQLite) ---------------------------------------------------


def _as_other_user(fn, *args):
    """Run ``fn(*args)`` where file permissions apply: as root (who ignores them)
    in a forked child that becomes ``nobody`` first; otherwise right here."""
    if os.geteuid() != 0:
        return fn(*args)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()

    def child() -> None:
        os.setgid(65534)
        os.setuid(65534)
        try:
            queue.put(fn(*args))
        except BaseException as exc:
            queue.put(f"CRASH {type(exc).__name__}: {exc}")

    proc = ctx.Process(target=child)
    proc.start()
    try:
        return queue.get(timeout=60)
    finally:
        proc.join(timeout=10)


def _try_everything(path: str, login: str) -> list[str]:
    st = Store(path)
    out = []
    for step in ("open", "read", "write"):
        try:
            if step == "open":
                st.prepare()
            elif step == "read":
                accounts.account_info(st, 1)
            else:
                actor = accounts.refresh_actor(st, accounts.sign_in(st, login))
                marketplace.enable(st, actor, CUSTOM_KEY)
            out.append(f"{step}: ok")
        except DomainError as exc:
            out.append(f"{step}: {type(exc).__name__}: {exc}")
    st.dispose()
    return out


@pytest.fixture
def readonly_db():
    """A SQLite database in a folder the test can make read-only (not under the
    root-only pytest tmp folder, so that the unprivileged child can reach it)."""
    folder = Path(tempfile.mkdtemp(prefix="ia-ro-"))
    path = folder / "admin.db"
    st = Store(str(path))
    accounts.sign_in(st, "alice")
    st.dispose()
    yield folder, path
    folder.chmod(0o755)
    path.chmod(0o644)
    shutil.rmtree(folder, ignore_errors=True)


def test_read_only_file_reads_and_refuses_writes_clearly(readonly_db):
    folder, path = readonly_db
    folder.chmod(0o777)  # the folder is writable: only the file is read-only
    path.chmod(0o444)
    before = path.read_bytes()
    assert _as_other_user(_try_everything, str(path), "alice") == [
        "open: ok",
        "read: ok",
        f"write: StoreUnavailable: The database at {path} is read-only: check the "
        "permissions of the file and of its folder.",
    ]
    assert path.read_bytes() == before


def test_read_only_folder_and_file_refuse_clearly(readonly_db):
    folder, path = readonly_db
    path.chmod(0o444)
    folder.chmod(0o555)  # nor can SQLite create its -wal and -shm files beside it
    message = (
        f"StoreUnavailable: The database at {path} is read-only: check the permissions "
        "of the file and of its folder."
    )
    assert _as_other_user(_try_everything, str(path), "alice") == [
        f"open: {message}",
        f"read: {message}",
        f"write: {message}",
    ]


def test_full_disk_says_so_and_changes_nothing(tmp_path):
    """A full disk, simulated with SQLite's ``PRAGMA max_page_count`` (the file
    may not grow past it: SQLite answers SQLITE_FULL exactly as on a full disk)."""
    st = Store(str(tmp_path / "full.db"))
    alice = accounts.sign_in(st, "alice")
    iid = marketplace.enable(st, alice, CUSTOM_KEY)
    bp = blueprints.create(st, alice, iid, name="Orders")
    with st.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
    limit = f"PRAGMA max_page_count = {pages + 3}"
    event.listen(st.engine, "connect", lambda dbapi, _rec: dbapi.execute(limit))
    st.engine.dispose()

    added = 0
    with pytest.raises(StoreUnavailable) as err:
        for n in range(200):
            blueprints.add_field(st, alice, bp.id, name=f"Field {n}", description="x" * 1900)
            added += 1
    assert str(err.value) == (f"The disk holding {st.path} is full: free some space and try again.")
    before = dump(st)
    assert len(before["blueprint_field"]) == added  # the refused call left nothing
    with pytest.raises(StoreUnavailable):
        blueprints.add_field(st, alice, bp.id, name="Still full", description="x" * 1900)
    assert dump(st) == before
    with st.engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    st.dispose()
    freed = Store(str(tmp_path / "full.db"))  # space freed: the same file works again
    blueprints.add_field(freed, alice, bp.id, name="After freeing space")
    freed.dispose()


async def test_app_survives_a_postgresql_outage_and_recovers(own_pg):
    """The whole app, by keys: while the server is down every section says so;
    once it is back the same app works again."""
    from tui.app import IntegrationsAdmin

    from ..ui import flat

    st = Store(own_pg.fresh_database("app"))
    st.prepare()
    alice = accounts.sign_in(st, "alice")
    iid = marketplace.enable(st, alice, CUSTOM_KEY)
    blueprints.create(st, alice, iid, name="Orders")
    app = IntegrationsAdmin(st, alice)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause()
        assert "Custom integration" in flat(app)
        own_pg.stop()
        try:
            for keys in (["enter"], ["2"], ["n"], ["escape", "escape"], ["m"], ["p"], ["a"]):
                await pilot.press(*keys)
                await pilot.pause()
            assert "Cannot reach the database at" in flat(app)
        finally:
            own_pg.start()
        app.clear_notifications()
        await pilot.press("i")
        await pilot.pause()
        await pilot.press("enter", "2")
        await pilot.pause()
        assert "Orders" in flat(app)
        assert "Cannot reach" not in flat(app)
    st.dispose()
