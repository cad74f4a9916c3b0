"""The fast start: the first screen is read with sqlite3 (store.glance) and
painted before SQLAlchemy loads; the store opens right after.

No timing here (speed is measured by tests/benchmarks); these tests hold what
makes the start fast and keep it correct: the glance says exactly what the
store says, it steps aside whenever it cannot, nothing heavy is imported
before the first paint, and the program works the same once the store opens.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import update

from store import accounts, glance, integrations, marketplace, tokens, users
from store.catalog import CUSTOM_KEY
from store.db import Store
from store.errors import Unreachable
from store.models import Meta
from tui.app import IntegrationsAdmin
from tui.widgets.filter_table import FilterTable

from ..conftest import PG_URL, make_database_url
from ..latency_proxy import free_port
from ..ui import flat, screen_text, wait_until

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sqlite_store(tmp_path):
    st = Store(f"sqlite:///{tmp_path / 'glance.db'}")
    st.prepare()
    yield st
    st.dispose()


@pytest.fixture
def pg_store(tmp_path):
    if not PG_URL:
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL)")
    gen = make_database_url("postgresql", tmp_path)
    st = Store(next(gen))
    st.prepare()
    yield st
    st.dispose()
    next(gen, None)


def populate(st: Store):
    """Natives and the Custom integration, one native paused, tokens (one revoked)."""
    owner = accounts.sign_in(st, "alice", name="Alice Admin")
    for key in ("salesforce", "slack", "pipedrive", CUSTOM_KEY):
        marketplace.enable(st, owner, key)
    marketplace.disable(st, owner, "pipedrive")
    custom = next(i.id for i in integrations.active(st, owner.account_id) if i.key == CUSTOM_KEY)
    first, _ = tokens.generate(st, owner, custom, name="ERP")
    tokens.generate(st, owner, custom, name="CRM")
    tokens.revoke(st, owner, first.id)
    users.add(st, users.Operator("ops", owner.account_id), "bob", name="Bob Viewer")
    return owner


def _says_what_the_store_says(st: Store, first_screen) -> None:
    """``first_screen(url, login)`` (a glance) against the store's own reads."""
    owner = populate(st)
    seen = first_screen(st.url, "alice")
    assert seen is not None
    assert seen.url == st.url
    assert seen.actor == owner
    assert seen.account == accounts.account_info(st, owner.account_id)
    assert list(seen.integrations) == integrations.active(st, owner.account_id)
    # Marketplace order, the paused one left out, the revoked token not counted.
    assert [i.key for i in seen.integrations] == ["salesforce", "slack", CUSTOM_KEY]
    assert seen.integrations[-1].tokens == 1
    assert seen.integrations[0].enabled_at.utcoffset() is not None

    bob = first_screen(st.url, "bob")
    assert bob is not None and not bob.actor.can_manage and bob.actor.name == "Bob Viewer"


def test_glance_says_what_the_store_says(sqlite_store):
    _says_what_the_store_says(sqlite_store, glance.first_screen)


def test_server_glance_says_what_the_store_says(pg_store):
    """On PostgreSQL the first screen is read with psycopg alone, in one round
    trip after connecting: exactly what the store reads."""
    _says_what_the_store_says(pg_store, glance.first_screen_on_server)
    assert glance.first_screen_on_server(pg_store.url, "mallory") is None
    assert glance.first_screen_on_server(pg_store.url, " alice") is None
    with pytest.raises(Unreachable):  # as the store says it (tested below)
        glance.first_screen_on_server(pg_store.url.replace("/t_", "/nodb_"), "alice")
    with pg_store.write() as s:  # another schema version: upgrade or refusal is the store's
        s.execute(update(Meta).where(Meta.key == "schema_version").values(value="1"))
    assert glance.first_screen_on_server(pg_store.url, "alice") is None


def test_server_glance_of_an_unreachable_server_says_what_the_store_says():
    port = free_port()  # nothing listens there
    url = f"postgresql+psycopg://alice:secret@127.0.0.1:{port}/integrations"
    with pytest.raises(Unreachable) as seen:
        glance.first_screen_on_server(url, "alice")
    assert seen.value.where == f"127.0.0.1:{port}"
    assert str(seen.value).startswith(f"Cannot reach the database at 127.0.0.1:{port} (")
    assert "secret" not in str(seen.value)
    with pytest.raises(Exception) as by_store:
        Store(url).prepare()
    assert str(by_store.value) == str(seen.value)
    # Started early (as the program starts it), the same words when asked.
    with pytest.raises(Unreachable, match="Cannot reach the database"):
        glance.Soon(url, "alice").result()
    assert glance.first_screen_on_server("sqlite:///x.db", "alice") is None


async def test_app_paints_the_server_glance_before_the_store_opens(pg_store, monkeypatch):
    """The frame at once, then the first screen's rows from the glance while
    the store is still opening (held here until the rows are on the screen)."""
    import threading

    populate(pg_store)
    gate = threading.Event()
    opening = IntegrationsAdmin._open_store

    def held(self):
        gate.wait(30)
        return opening(self)

    monkeypatch.setattr(IntegrationsAdmin, "_open_store", held)
    monkeypatch.setattr(IntegrationsAdmin, "CHANGES_POLL_S", 3600.0)  # no poll meanwhile
    pending = accounts.Actor(0, "alice", "alice", 0, "member", False)  # as tui/cli.py starts
    app = IntegrationsAdmin(None, pending, url=pg_store.url)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: "Custom integration" in flat(app), tries=500)
            assert not app.store_is_open
            assert "Salesforce" in flat(app) and "Pipedrive" not in flat(app)
            assert "Connecting to" not in flat(app)
            assert app.actor.is_owner and "alice (owner)" in app.sub_title
            gate.set()
            await wait_until(pilot, lambda: app.store_is_open, tries=500)
            await app.workers.wait_for_complete()
            assert app.changes_seen is not None  # read as the store opened
            await pilot.press("p")
            assert "No playbooks yet" in screen_text(app)
            await pilot.press("i")
            assert app.screen.query_one(FilterTable).row_count == 3
    finally:
        gate.set()
        if app.store_is_open:
            app.store.dispose()


async def test_app_shows_the_server_glance_read_before_it_started(pg_store, monkeypatch):
    """The program starts reading the server's first screen before importing
    Textual (``glance.Soon``, tui/cli.py); the App shows that one and does not
    read it again."""
    populate(pg_store)
    early = glance.Soon(pg_store.url, "alice")
    assert early.result() is not None  # read, as it would be while Textual imports

    def again(*_args):
        raise AssertionError("the App read the glance again")

    monkeypatch.setattr(glance, "first_screen_on_server", again)
    monkeypatch.setattr(IntegrationsAdmin, "CHANGES_POLL_S", 3600.0)
    pending = accounts.Actor(0, "alice", "alice", 0, "member", False)
    app = IntegrationsAdmin(None, pending, url=pg_store.url, server_glance=early)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: "Custom integration" in flat(app), tries=500)
            assert "Salesforce" in flat(app) and "Pipedrive" not in flat(app)
            assert app.actor.is_owner and "alice (owner)" in app.sub_title
            await wait_until(pilot, lambda: app.store_is_open, tries=500)
            await app.workers.wait_for_complete()
            assert app.open_failure is None
    finally:
        if app.store_is_open:
            app.store.dispose()


def test_the_early_server_glance_imports_psycopg_in_another_process(pg_store):
    """Read early, the server's glance costs this process neither psycopg's import
    nor the waits: a process of its own does both, on another core."""
    populate(pg_store)
    code = (
        "import sys\n"
        "from store.glance import Soon\n"
        f"seen = Soon({pg_store.url!r}, 'alice').result()\n"
        "print(seen.account.name if seen else None)\n"
        "print('psycopg' in sys.modules)\n"
    )
    account = accounts.account_info(pg_store, accounts.sign_in(pg_store, "alice").account_id)
    assert _python(code).splitlines() == [account.name, "False"]


def test_the_early_server_glance_forks_and_lets_go_of_the_terminal():
    """At the program's start (one thread) the glance's process is this one
    forked: no new interpreter to start. It holds none of the terminal (its
    standard streams on /dev/null: a program that quits leaves no process on
    the terminal), and it is ended with the program, whose glance then says
    nothing (the store answers)."""
    import socket

    silent = socket.socket()  # a server that never answers: the child waits on it
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    port = silent.getsockname()[1]
    code = (
        "import os, sys, threading, time\n"
        "from store.glance import Soon\n"
        f"early = Soon('postgresql+psycopg://alice@127.0.0.1:{port}/x', 'alice')\n"
        "pid = early._forked\n"
        "print(pid is not None and pid != os.getpid(), early._child is None)\n"
        "time.sleep(0.5)\n"
        "print(sorted({os.path.realpath(f'/proc/{pid}/fd/{n}') for n in (0, 1, 2)}))\n"
        "early._end_child()\n"
        "print(early.result())\n"
        "print(early._forked)\n"
        "print(os.path.exists(f'/proc/{pid}'))\n"
        "def busy():\n"
        "    time.sleep(2)\n"
        "threading.Thread(target=busy, daemon=True).start()\n"
        f"other = Soon('postgresql+psycopg://alice@127.0.0.1:{port}/x', 'alice')\n"
        "print(other._forked, other._child is not None)  # threads: a new interpreter\n"
        "other._end_child()\n"
    )
    try:
        lines = _python(code).splitlines()
    finally:
        silent.close()
    assert lines == ["True True", "['/dev/null']", "None", "None", "False", "None True"]


def test_glance_steps_aside_when_it_cannot_answer_exactly(sqlite_store, tmp_path):
    populate(sqlite_store)
    url = sqlite_store.url
    assert glance.first_screen(url, "mallory") is None  # unknown: the store explains
    assert glance.first_screen(url, " alice") is None  # refused by sign_in
    assert glance.first_screen(url, "al\x00ice") is None
    assert glance.first_screen("postgresql+psycopg://u@127.0.0.1:1/x", "alice") is None
    assert glance.first_screen("sqlite:///:memory:", "alice") is None
    assert glance.first_screen(f"sqlite:///{tmp_path / 'x.db'}?mode=ro", "alice") is None

    missing = tmp_path / "new" / "fresh.db"
    assert glance.first_screen(str(missing), "alice") is None
    assert not missing.exists() and not missing.parent.exists()  # never creates a file

    not_ours = tmp_path / "other.db"
    not_ours.write_bytes(b"this is not a database")
    assert glance.first_screen(str(not_ours), "alice") is None

    with sqlite_store.write() as s:  # another schema version: upgrade or refusal is the store's
        s.execute(update(Meta).where(Meta.key == "schema_version").values(value="1"))
    assert glance.first_screen(url, "alice") is None


def test_glance_reads_a_bare_path_and_the_environment(sqlite_store, monkeypatch):
    populate(sqlite_store)
    assert sqlite_store.path is not None
    assert glance.first_screen(str(sqlite_store.path), "alice") is not None
    monkeypatch.setenv("INTEGRATIONS_ADMIN_DB", str(sqlite_store.path))
    seen = glance.first_screen(None, "alice")
    assert seen is not None and seen.url == sqlite_store.url


def test_nothing_heavy_before_the_first_paint():
    """What the first screen imports: no SQLAlchemy, SQLModel, pydantic, httpx,
    pyperclip, Alembic, psycopg, FastAPI or uvicorn, nor the screens of other sections."""
    code = (
        "import sys, tui.cli, tui.app, tui.screens.integrations, store.glance\n"
        "tui.cli._parser()  # the command line, serve's arguments included\n"
        "heavy = ('sqlalchemy', 'sqlmodel', 'pydantic', 'httpx', 'pyperclip', 'alembic',\n"
        "         'psycopg', 'tui.screens.marketplace', 'tui.screens.playbooks',\n"
        "         'tui.screens.audit', 'tui.screens.integration', 'tui.commands',\n"
        "         'fastapi', 'uvicorn', 'starlette', 'api.app')\n"
        "print(' '.join(m for m in heavy if m in sys.modules))\n"
    )
    assert _python(code).strip() == ""


def _python(code: str) -> str:
    """What ``code`` prints, run in a fresh interpreter (nothing imported yet)."""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return out.stdout


def test_the_frame_on_a_server_names_it_without_sqlalchemy():
    """On PostgreSQL the frame says "Connecting to HOST..." at once: naming the
    server imports nothing heavy (it imported SQLAlchemy on the UI thread, 0.7 s
    before the first paint)."""
    code = (
        "import sys, tui.app, tui.screens.integrations\n"
        "from store.values import Actor\n"
        "app = tui.app.IntegrationsAdmin(None, Actor(0, 'a', 'a', 0, 'member', False),\n"
        "    url='postgresql+psycopg://u:secret@db.example.com:6543/x')\n"
        "print(app.connecting_to)\n"
        "heavy = ('sqlalchemy', 'sqlmodel', 'pydantic', 'psycopg', 'alembic')\n"
        "print(' '.join(m for m in heavy if m in sys.modules))\n"
    )
    printed = _python(code)
    assert printed.split("\n")[:2] == ["db.example.com:6543", ""], printed


async def test_app_paints_the_glance_then_opens_the_store(sqlite_store, monkeypatch):
    # No poll of the change counter during the test: the store's opening reads it.
    monkeypatch.setattr(IntegrationsAdmin, "CHANGES_POLL_S", 3600.0)
    owner = populate(sqlite_store)
    with sqlite_store.read() as s:
        before = s.get(accounts.User, owner.user_id).last_seen_at
    seen = glance.first_screen(sqlite_store.url, "alice")
    assert seen is not None
    app = IntegrationsAdmin(None, seen.actor, glance=seen)
    assert not app.store_is_open
    async with app.run_test(size=(80, 24)) as pilot:
        text = screen_text(app)
        assert "Salesforce" in text and "Custom integration" in text
        assert "Pipedrive" not in text
        assert "Alice" not in text and "alice (owner)" in text  # header from the glance
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.store_is_open  # opened right after the first paint
        assert app.store.url == sqlite_store.url
        # The counter is known at once (a change made on the next screen shows its
        # own result without reading that screen again: Loads.applied_own_change).
        assert app.changes_seen is not None
        await pilot.press("p")
        await pilot.pause()
        assert "No playbooks yet" in screen_text(app)
        await pilot.press("i")
        await pilot.pause()
        table = app.screen.query_one(FilterTable)
        assert table.row_count == 3
    with sqlite_store.read() as s:  # the deferred sign-in recorded the visit
        after = s.get(accounts.User, owner.user_id).last_seen_at
    assert after is not None and (before is None or after >= before)
    app.store.dispose()


async def test_a_user_removed_between_glance_and_store_is_told(sqlite_store):
    populate(sqlite_store)
    seen = glance.first_screen(sqlite_store.url, "bob")
    assert seen is not None
    owner = accounts.sign_in(sqlite_store, "alice")
    users.remove(sqlite_store, owner, "bob")
    app = IntegrationsAdmin(None, seen.actor, glance=seen)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not app.store_is_open
        assert "The login 'bob' is not a user of this database" in flat(app)


def test_app_needs_a_store_or_a_glance():
    with pytest.raises(ValueError):
        IntegrationsAdmin(None, accounts.Actor(1, "x", "x", 1, "member", False))


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("postgresql+psycopg://u:secret@db.example.com:6543/x", "db.example.com:6543"),
        ("postgresql://u@db.example.com/x", "db.example.com"),
        ("postgresql+psycopg://u@[::1]:5432/x", "[::1]:5432"),
        ("postgresql+psycopg://u@db:notaport/x", "the database server"),
        ("postgresql+psycopg:///x?host=/run/postgresql", "the database server"),
    ],
)
def test_the_server_is_named_without_user_password_or_database(url, named):
    from store.location import server_of

    assert server_of(url) == named
