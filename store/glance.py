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

The queries mirror ``accounts.account_info`` and ``integrations.active``; a
test compares the two on the same database.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from . import catalog, validate
from .errors import DomainError
from .location import SCHEMA_VERSION, resolve_url
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
    try:
        if validate.name(login, field="login", what="Login") != login:
            return None
    except DomainError:
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
    actor = Actor(
        user_id=user[0],
        login=user[1],
        name=user[2],
        account_id=user[3],
        role=user[4],
        can_manage=bool(user[5]),
    )
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
    account = AccountInfo(
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
