"""A glance at a SQLite database for the first screen, before SQLAlchemy loads.

Importing SQLAlchemy, SQLModel and pydantic costs more than starting Textual
and painting a screen; the first screen (the Integrations list, the header's
account and user) needs five small queries. So the program reads those with
the standard library's ``sqlite3``, read-only, paints, and opens the real
``Store`` right after (``tui.app``).

``first_screen`` answers only when it can answer exactly as the store would:
a SQLite file that exists, of this program's schema version, an account and a
known login. Otherwise (PostgreSQL, a new or older database, an unknown user,
a busy or unreadable file, anything unexpected) it returns None and the
program takes the ordinary path, which creates, upgrades or explains. It
never writes: signing in (which records the last visit) happens when the real
store opens, a moment later.

On PostgreSQL (``first_screen_on_server``) the glance is psycopg alone (it
imports in a fifth of the time SQLAlchemy, SQLModel and the models take), the
same queries in one round trip after connecting (psycopg's pipeline mode, in one
read-only snapshot), with the connection settings the store uses
(``location.pg_settings``). The program starts it first thing (``Soon``), in a
process of its own, so that psycopg's import and the waits for the server run
on another core while Textual imports and the frame ("Connecting to HOST...")
paints; the store opens once the glance's rows are on the terminal.

The queries mirror ``accounts.account_info`` and ``integrations.active``; a
test compares the two on the same database, on both backends.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from . import catalog, validate
from .errors import DomainError, Unreachable
from .location import SCHEMA_VERSION, cannot_reach, pg_settings, resolve_url, server_of
from .values import AccountInfo, Actor, IntegrationInfo, integration_infos


@dataclass(frozen=True)
class Glance:
    """What the first screen shows, read before the store is open."""

    url: str  # the resolved database URL, for opening the real Store
    actor: Actor
    account: AccountInfo
    integrations: tuple[IntegrationInfo, ...]


def sqlite_file(url: str) -> Path | None:
    """The file of a plain ``sqlite:///PATH`` URL, else None."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    path = url[len(prefix) :]
    if not path or path == ":memory:":
        return None
    return Path(path)


def _when(value: str | None) -> datetime | None:
    # SQLAlchemy stores aware datetimes in SQLite as UTC text without an offset.
    if value is None:
        return None
    at = datetime.fromisoformat(value)
    return at.replace(tzinfo=UTC) if at.utcoffset() is None else at.astimezone(UTC)


def first_screen(db: str | None, login: str, *, timeout_s: float = 15) -> Glance | None:
    """The first screen's data from the SQLite file ``db`` names (as ``--db``
    would), or None when the ordinary path must be taken."""
    url = resolve_url(db)
    path = sqlite_file(url)
    if path is None or not path.is_file():
        return None
    if not _login_as_signed_in(login):
        return None
    try:
        # mode=rw: never create a file (and never write: only SELECTs follow).
        conn = sqlite3.connect(
            f"file:{quote(str(path.absolute()))}?mode=rw",
            uri=True,
            timeout=timeout_s,
            isolation_level=None,
            check_same_thread=False,
        )
    except sqlite3.Error:
        return None
    try:
        conn.execute("BEGIN")  # one consistent snapshot for every query
        return _read(conn, url, login)
    except (sqlite3.Error, ValueError, KeyError, TypeError):
        return None  # the ordinary path will say what is wrong, in words
    finally:
        conn.close()


def _login_as_signed_in(login: str) -> bool:
    """Whether ``accounts.sign_in`` would take ``login`` as it is (else the store
    answers, and says why)."""
    try:
        return validate.name(login, field="login", what="Login") == login
    except DomainError:
        return False


def _actor(u: tuple) -> Actor:
    """Who signs in, from ``SELECT id, login, name, account_id, role, can_manage``."""
    return Actor(
        user_id=u[0], login=u[1], name=u[2], account_id=u[3], role=u[4], can_manage=bool(u[5])
    )


def _account(a: tuple, custom: int, playbooks: int) -> AccountInfo:
    """The account as ``accounts.account_info`` gives it, from its row and two counts."""
    return AccountInfo(
        id=a[0],
        name=a[1],
        plan=a[2],
        limit_custom_blueprints=a[3],
        limit_connected_blueprints=a[4],
        limit_data_fields=a[5],
        limit_playbooks=a[6],
        webhook_timeout_s=a[7],
        allow_private_webhooks=bool(a[8]),
        custom_blueprints=custom,
        playbooks=playbooks,
    )


def _read(conn: sqlite3.Connection, url: str, login: str) -> Glance | None:
    version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if version is None or version[0] != str(SCHEMA_VERSION):
        return None
    user = conn.execute(
        "SELECT id, login, name, account_id, role, can_manage FROM app_user WHERE login = ?",
        (login,),
    ).fetchone()
    if user is None:
        return None
    actor = _actor(user)
    aid = actor.account_id
    a = conn.execute(
        "SELECT id, name, plan, limit_custom_blueprints, limit_connected_blueprints, "
        "limit_data_fields, limit_playbooks, webhook_timeout_s, allow_private_webhooks "
        "FROM account WHERE id = ?",
        (aid,),
    ).fetchone()
    if a is None:
        return None
    (custom,) = conn.execute(
        "SELECT count(*) FROM blueprint WHERE account_id = ? AND native = 0", (aid,)
    ).fetchone()
    (playbooks,) = conn.execute(
        "SELECT count(*) FROM playbook WHERE account_id = ?", (aid,)
    ).fetchone()
    account = _account(a, custom, playbooks)
    rows = []
    for iid, key, enabled, first_at, at, by in conn.execute(
        "SELECT id, extension_key, enabled, first_enabled_at, enabled_at, enabled_by "
        "FROM integration WHERE account_id = ? AND enabled = 1",
        (aid,),
    ):
        if not catalog.has_extension(key):
            return None  # not this program's catalog: let the store decide
        rows.append((iid, key, bool(enabled), _when(first_at), _when(at), by))

    def counts(table: str, extra: str = "") -> dict[int, int]:
        return dict(
            conn.execute(
                f"SELECT integration_id, count(*) FROM {table} WHERE integration_id IN "
                "(SELECT id FROM integration WHERE account_id = ? AND enabled = 1)"
                f"{extra} GROUP BY integration_id",
                (aid,),
            ).fetchall()
        )

    infos = integration_infos(
        rows,
        counts("blueprint"),
        counts("api_token", " AND revoked_at IS NULL"),
        counts("webhook"),
        account.plan,
    )
    return Glance(url=url, actor=actor, account=account, integrations=tuple(infos))


# -- PostgreSQL ------------------------------------------------------------------

_USER = "(SELECT account_id FROM app_user WHERE login = %(login)s)"
_ENABLED = f"(SELECT id FROM integration WHERE account_id = {_USER} AND enabled)"
_SERVER_QUERIES = (
    "SELECT value FROM meta WHERE key = 'schema_version'",
    "SELECT id, login, name, account_id, role, can_manage FROM app_user WHERE login = %(login)s",
    "SELECT id, name, plan, limit_custom_blueprints, limit_connected_blueprints, "
    "limit_data_fields, limit_playbooks, webhook_timeout_s, allow_private_webhooks "
    f"FROM account WHERE id = {_USER}",
    f"SELECT count(*) FROM blueprint WHERE account_id = {_USER} AND NOT native",
    f"SELECT count(*) FROM playbook WHERE account_id = {_USER}",
    "SELECT id, extension_key, enabled, first_enabled_at, enabled_at, enabled_by "
    f"FROM integration WHERE account_id = {_USER} AND enabled",
    f"SELECT integration_id, count(*) FROM blueprint WHERE integration_id IN {_ENABLED} "
    "GROUP BY integration_id",
    f"SELECT integration_id, count(*) FROM api_token WHERE integration_id IN {_ENABLED} "
    "AND revoked_at IS NULL GROUP BY integration_id",
    f"SELECT integration_id, count(*) FROM webhook WHERE integration_id IN {_ENABLED} "
    "GROUP BY integration_id",
)


def server_conninfo(url: str) -> tuple[str, dict[str, str]] | None:
    """psycopg's connection string and arguments for a ``postgresql+psycopg://``
    URL, with the settings the store connects with; None for any other URL."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    if not url.startswith("postgresql+psycopg://"):
        return None
    parts = urlsplit(url)
    # The store's lock timeout (store.db.Store's default): this glance only reads.
    args, query = pg_settings(dict(parse_qsl(parts.query)), lock_ms=15_000)
    return urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(query), "")), args


class Soon:
    """``first_screen_on_server`` started now, its outcome asked for later
    (``result``). The program starts it before importing Textual: psycopg's
    import (about 0.1 s of CPU) and the waits for the server run in a process of
    their own, on another core, while this one imports Textual and paints the
    frame, which a thread of this process would delay (one interpreter runs one
    thread at a time).

    The process is this one forked, on Linux while it has one thread (the
    program's start): it begins at once, with this interpreter already up and
    this package imported, where a new interpreter took 30-40 ms to get there;
    it lets go of the terminal (its standard streams on /dev/null) and answers
    on a pipe. Elsewhere (or with threads running, where a fork could copy a
    lock held by one of them) it is ``python -c``, the URL and login on its
    stdin (never its command line), the answer on its stdout. Either answer is
    pickled. Where no process can be started, a thread does it."""

    def __init__(self, url: str, login: str) -> None:
        import atexit

        self.url, self.login = url, login
        self._done = threading.Event()
        self._value: Glance | None = None
        self._error: BaseException | None = None
        self._child: Any = None  # subprocess.Popen
        self._forked: int | None = None  # the forked child's process id, until reaped
        if self._fork():
            atexit.register(self._end_child)
            return
        import subprocess  # (here: a start on SQLite never needs it)

        try:
            self._child = subprocess.Popen(
                [sys.executable, "-c", _CHILD.format(root=str(Path(__file__).parent.parent))],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            threading.Thread(target=self._in_thread, name="glance", daemon=True).start()
            return
        atexit.register(self._end_child)
        threading.Thread(target=self._from_child, name="glance", daemon=True).start()

    def _fork(self) -> bool:
        import os

        if not sys.platform.startswith("linux") or threading.active_count() != 1:
            return False
        read_end, write_end = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            return False
        if pid == 0:  # the child: answer, and end without the parent's exit handlers
            status = 1
            try:
                os.close(read_end)
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                answer = _outcome(self.url, self.login)
                with os.fdopen(write_end, "wb") as out:
                    out.write(answer)
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        self._forked = pid
        threading.Thread(
            target=self._from_fork, args=(read_end,), name="glance", daemon=True
        ).start()
        return True

    def _in_thread(self) -> None:
        try:
            self._value = first_screen_on_server(self.url, self.login)
        except BaseException as exc:  # raised again in whoever asks
            self._error = exc
        finally:
            self._done.set()

    def _from_fork(self, read_end: int) -> None:
        import os

        try:
            with os.fdopen(read_end, "rb") as answer:
                self._take(answer.read())
        finally:
            pid, self._forked = self._forked, None
            if pid is not None:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
            self._done.set()

    def _from_child(self) -> None:
        import json

        child = self._child
        assert child is not None
        try:
            out, _ = child.communicate(json.dumps([self.url, self.login]).encode())
            self._take(out)
        finally:
            self._done.set()

    def _take(self, answer: bytes) -> None:
        import pickle

        try:
            kind, *said = pickle.loads(answer)
        except Exception:  # the child died or said nothing: the store answers
            self._value = None
            return
        if kind == "glance":
            self._value = said[0]
        elif kind == "unreachable":
            self._error = Unreachable(said[0], said[1])

    def _end_child(self) -> None:
        """At exit: a child still waiting for a server (the program quit first) ends too."""
        import os
        import signal

        pid = self._forked
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        child = self._child
        if child is not None and child.poll() is None:
            child.kill()

    def result(self) -> Glance | None:
        """What ``first_screen_on_server`` returned (waits for it), or its error."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value


# The child of Soon started anew: this package from where the parent has it, the
# request on stdin, the outcome on stdout.
_CHILD = (
    "import sys; sys.path.insert(0, {root!r}); from store.glance import _answer_parent; "
    "_answer_parent()"
)


def _outcome(url: str, login: str) -> bytes:
    """``first_screen_on_server``'s outcome, pickled: a Glance, None, or the
    unreachable server's words."""
    import pickle

    try:
        found: tuple = ("glance", first_screen_on_server(url, login))
    except Unreachable as exc:
        found = ("unreachable", str(exc), exc.where)
    return pickle.dumps(found)


def _answer_parent() -> None:
    import json

    url, login = json.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(_outcome(url, login))


def first_screen_on_server(url: str, login: str) -> Glance | None:
    """The first screen's data from the PostgreSQL server of ``url`` (resolved),
    or None when the store must answer (another schema, an unknown user, any
    error once connected). A server that cannot be reached raises Unreachable,
    with the words the store uses, so the program says it once, not after a
    second wait for the same server."""
    found = server_conninfo(url)
    if found is None:
        return None
    if not _login_as_signed_in(login):
        return None
    try:
        import psycopg
    except ImportError:
        return None
    conninfo, args = found
    try:
        conn = psycopg.connect(conninfo, autocommit=True, **args)
    except psycopg.OperationalError as exc:
        raise Unreachable(cannot_reach(server_of(url), exc), server_of(url)) from exc
    except psycopg.Error:
        return None
    try:
        params = {"login": login}
        with conn.pipeline():  # every query sent at once: one round trip
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cursors = [conn.execute(q, params) for q in _SERVER_QUERIES]
            conn.execute("ROLLBACK")
        results = [c.fetchall() for c in cursors]
        return _from_server(url, results)
    except (psycopg.Error, ValueError, KeyError, TypeError, IndexError):
        return None
    finally:
        conn.close()


def _from_server(url: str, results: list[list[tuple]]) -> Glance | None:
    version, users, accounts_, custom, playbooks, integrations, *counts = results
    if not version or version[0][0] != str(SCHEMA_VERSION) or not users or not accounts_:
        return None
    actor = _actor(users[0])
    account = _account(accounts_[0], custom[0][0], playbooks[0][0])
    rows = []
    for iid, key, enabled, first_at, at, by in integrations:
        if not catalog.has_extension(key):
            return None  # not this program's catalog: let the store decide
        rows.append((iid, key, bool(enabled), first_at.astimezone(UTC), at.astimezone(UTC), by))
    blueprints, tokens, webhooks = (dict(c) for c in counts)
    infos = integration_infos(rows, blueprints, tokens, webhooks, account.plan)
    return Glance(url=url, actor=actor, account=account, integrations=tuple(infos))
