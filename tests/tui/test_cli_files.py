"""The database file: the operator's commands never create one by mistake (a
mistyped --db), a new one is readable only by its owner (it holds signing keys),
and a file that is not a database, is damaged or carries a bad schema version is
refused with a message naming it, never a traceback; arguments and stdin that
are not UTF-8 are refused in words. Issue 13, items 13, 18 and 21."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from store import accounts, marketplace, tokens, users
from store.catalog import CUSTOM_KEY
from store.db import Store
from store.errors import DatabaseDamaged, NoDatabase, ValidationError
from tui import cli

from ..reliability import V1_SQLITE


def run(capsys, *args: str, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    rc = cli.main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def umask_022():
    """The usual umask, whatever the test runner's: files would be 0644 by default."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- item 13: a command that needs a database never creates one -------------------------

READ_AND_OPERATE = [
    ("tokens", "verify"),
    ("account", "show"),
    ("users", "list"),
    ("audit", "export"),
    ("users", "add", "carol"),
    ("users", "grant", "carol"),
    ("account", "set", "--plan", "Business"),
]


@pytest.mark.parametrize("command", READ_AND_OPERATE, ids=" ".join)
def test_a_missing_file_is_refused_and_nothing_is_created(command, tmp_path, capsys, monkeypatch):
    typo = tmp_path / "not-here" / "integrations-admn.db"
    rc, out, err = run(
        capsys, "--db", str(typo), *command, stdin="iadm_x\n", monkeypatch=monkeypatch
    )
    assert (rc, out) == (2, "")
    assert err == (
        f"integrations-admin: There is no database at {typo}: check --db (or "
        "$INTEGRATIONS_ADMIN_DB); `integrations-admin where` prints where the database is. "
        "Nothing was created.\n"
    )
    assert not typo.exists() and not typo.parent.exists()


def test_the_environment_variable_is_held_to_the_same_rule(tmp_path, capsys, monkeypatch):
    typo = tmp_path / "typo.db"
    monkeypatch.setenv("INTEGRATIONS_ADMIN_DB", str(typo))
    rc, _, err = run(capsys, "users", "list")
    assert rc == 2 and f"There is no database at {typo}" in err
    assert not typo.exists()


def test_where_prints_the_place_and_creates_nothing(tmp_path, capsys):
    place = tmp_path / "new" / "x.db"
    rc, out, err = run(capsys, "--db", str(place), "where")
    assert (rc, out) == (0, f"{place}\n")
    assert "no database there yet" in err
    assert not place.parent.exists()


def test_a_store_opened_without_create_refuses_a_missing_file(tmp_path):
    with pytest.raises(NoDatabase, match="no database at"):
        Store(f"sqlite:///{tmp_path / 'x.db'}", create=False)
    assert list(tmp_path.iterdir()) == []


def test_empty_input_says_no_token_given(store, owner, capsys, monkeypatch):
    for given in ("", "\n", "   \n"):
        rc, out, err = run(
            capsys, "--db", store.url, "tokens", "verify", stdin=given, monkeypatch=monkeypatch
        )
        assert (rc, out) == (1, "")
        assert err == "Refused (malformed): This is not a valid API token: no token given.\n"


def test_input_that_is_not_utf8_is_a_malformed_token(store, owner, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"iadm_\xff\xfe\n")))
    rc = cli.main(["--db", store.url, "tokens", "verify"])
    _, err = capsys.readouterr()
    assert rc == 1 and err.startswith("Refused (malformed): ")


def test_verify_help_says_the_token_is_read_from_standard_input(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["tokens", "verify", "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "The token is read from standard input" in text


def test_a_valid_token_still_verifies(store, owner, capsys, monkeypatch):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    _, tok = tokens.generate(store, owner, iid, name="ERP")
    rc, out, _ = run(
        capsys, "--db", store.url, "tokens", "verify", stdin=tok + "\n", monkeypatch=monkeypatch
    )
    assert (rc, out) == (0, "Valid: API token 'ERP' of Custom integration.\n")


# -- item 18: a new database is its owner's alone ------------------------------------------


def test_a_new_database_and_its_wal_and_shm_are_0600_in_a_0700_folder(tmp_path, umask_022):
    folder = tmp_path / "data" / "integrations-admin"
    db = folder / "integrations-admin.db"
    st = Store(f"sqlite:///{db}")
    st.prepare()
    accounts.sign_in(st, "alice")  # a write: the -wal and -shm files exist now
    wal, shm = db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")
    assert wal.exists() and shm.exists()
    assert {p.name: mode(p) for p in (db, wal, shm)} == {
        db.name: 0o600,
        wal.name: 0o600,
        shm.name: 0o600,
    }
    assert mode(folder) == 0o700
    st.dispose()


def test_an_existing_folder_and_file_keep_their_modes(tmp_path, umask_022):
    tmp_path.chmod(0o750)
    db = tmp_path / "shared.db"
    sqlite3.connect(db).close()
    db.chmod(0o640)
    st = Store(f"sqlite:///{db}")
    st.prepare()
    st.dispose()
    assert (mode(tmp_path), mode(db)) == (0o750, 0o640)


@pytest.mark.parametrize("db_mode", [0o600, 0o640])
def test_the_upgrade_backup_has_the_databases_mode(tmp_path, umask_022, db_mode):
    db = tmp_path / "old.db"
    shutil.copyfile(V1_SQLITE, db)
    db.chmod(db_mode)
    st = Store(f"sqlite:///{db}")
    st.prepare()
    st.dispose()
    assert st.upgraded_from == 1 and st.backup_path is not None
    assert mode(st.backup_path) == db_mode


# -- item 21: files that are not databases, arguments that are not text ----------------------


def _a_database(tmp_path: Path) -> Path:
    db = tmp_path / "good.db"
    st = Store(f"sqlite:///{db}")
    accounts.sign_in(st, "alice")
    st.dispose()
    return db


def _not_a_database(tmp_path: Path) -> Path:
    path = tmp_path / "notes.db"
    path.write_text("These are my notes, not a database.\n" * 200)
    return path


def _truncated(tmp_path: Path) -> Path:
    whole = _a_database(tmp_path).read_bytes()
    path = tmp_path / "truncated.db"
    path.write_bytes(whole[: len(whole) // 3])
    return path


def _bad_schema_version(tmp_path: Path) -> Path:
    path = _a_database(tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = 'three' WHERE key = 'schema_version'")
    conn.close()
    return path


BAD_FILES = {
    "not a database": (_not_a_database, "is not an integrations-admin database"),
    "truncated": (_truncated, "is damaged"),
    "schema version not a number": (_bad_schema_version, "schema version 'three'"),
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_a_bad_file_is_refused_naming_it_and_left_as_it_was(kind, tmp_path, capsys):
    make, words = BAD_FILES[kind]
    path = make(tmp_path)
    before = path.read_bytes()
    with pytest.raises(DatabaseDamaged) as refused:
        Store(f"sqlite:///{path}").prepare()
    assert str(path) in str(refused.value) and words in str(refused.value)
    for command in (["account", "show"], ["users", "list"], []):  # [] starts the program
        rc, out, err = run(capsys, "--db", str(path), *command)
        assert (rc, out) == (2, ""), command
        assert err.startswith("integrations-admin: ") and str(path) in err and words in err
        assert "Traceback" not in err
    assert path.read_bytes() == before


def test_a_login_argument_that_is_not_utf8_is_refused(store, owner, capsys, monkeypatch):
    monkeypatch.setattr(cli.getpass, "getuser", lambda: "root")
    users.add(store, owner, "bob")
    for verb in ("grant", "withdraw", "promote", "demote", "remove", "add"):
        rc, out, err = run(capsys, "--db", store.url, "users", verb, "bob\udcff")
        assert (rc, out) == (2, ""), verb
        assert err == (
            "integrations-admin: the argument LOGIN ('bob\\xff') is not valid UTF-8 text; "
            "retype it.\n"
        )
    assert [u.login for u in accounts.list_users(store, owner.account_id)] == ["alice", "bob"]


def test_an_os_login_that_is_not_utf8_is_refused(store, owner, capsys, monkeypatch):
    monkeypatch.setattr(cli.getpass, "getuser", lambda: "r\udcf6ot")
    rc, _, err = run(capsys, "--db", store.url, "users", "add", "carol")
    assert rc == 2 and "your login (LOGNAME or USER) is not valid UTF-8 text" in err
    assert [u.login for u in accounts.list_users(store, owner.account_id)] == ["alice"]


def test_the_store_refuses_a_login_that_is_not_utf8(store, owner):
    for change in (users.set_permission, users.set_role):
        with pytest.raises(ValidationError) as refused:
            change(store, owner, "bob\udcff", "owner" if change is users.set_role else True)
        assert refused.value.field == "login" and "not valid text" in refused.value.message
    with pytest.raises(ValidationError):
        users.remove(store, owner, "bob\udcff")


def test_users_add_refuses_what_cannot_be_an_os_login(store, owner, capsys, monkeypatch):
    monkeypatch.setattr(cli.getpass, "getuser", lambda: "root")
    rc, out, err = run(capsys, "--db", store.url, "users", "add", "carol smith")
    assert (rc, out) == (2, "")
    assert err == (
        "integrations-admin: A login cannot contain a space: an operating-system login is made "
        "of letters, digits, '.', '_', '-', '@' and '\\'.\n"
    )
    rc, _, err = run(capsys, "--db", store.url, "users", "add", "--", "-rf")
    assert rc == 2 and "A login cannot start with '-'" in err
    assert [u.login for u in accounts.list_users(store, owner.account_id)] == ["alice"]
    assert run(capsys, "--db", store.url, "users", "add", "carol@example.com")[0] == 0
