"""Opening a store: its URL, SQLite's settings, what importing it loads, two first
sign-ins at once.

Every test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.
"""

from __future__ import annotations

import subprocess
import sys

from sqlmodel import select

from store import accounts
from store.db import Store
from store.errors import UnknownUser

# -- opening the store ---------------------------------------------------------------


def test_resolve_url(monkeypatch, tmp_path):
    from store.db import ENV_VAR, resolve_url

    monkeypatch.delenv(ENV_VAR, raising=False)
    assert resolve_url(None).endswith("integrations-admin.db")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "x.db"))
    assert resolve_url(None) == f"sqlite:///{tmp_path / 'x.db'}"
    assert resolve_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"


def test_sqlite_pragmas(tmp_path):
    st = Store(str(tmp_path / "p.db"))
    st.prepare()
    with st.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000
    assert st.created


def test_import_store_does_not_import_textual():
    code = (
        "import sys, store, store.db, store.blueprints, store.marketplace; "
        "print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_two_first_sign_ins_at_once_make_one_account(db_url):
    """Two people open a brand-new database at the same instant: one becomes
    the owner, the other is refused; never two accounts."""
    import threading

    from store.models import Account

    stores = [Store(db_url), Store(db_url)]
    for st in stores:
        st.prepare()
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def open_as(st: Store, login: str) -> None:
        barrier.wait()
        try:
            accounts.sign_in(st, login)
            outcomes[login] = "owner"
        except UnknownUser:
            outcomes[login] = "refused"

    threads = [
        threading.Thread(target=open_as, args=(st, login))
        for st, login in zip(stores, ("ann", "ben"), strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["owner", "refused"]
    with stores[0].read() as s:
        assert len(s.exec(select(Account)).all()) == 1
    for st in stores:
        st.dispose()
