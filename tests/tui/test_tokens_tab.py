"""API tokens by keys: generate, copy, close (never shown again), revoke;
the clipboard helper; the `tokens verify` command; snapshots.

Pilot tests run on both backends. Snapshot tests use a SQLite file, a fixed
clock and obviously fake tokens (the only place a token is fixed).
"""

from __future__ import annotations

import contextlib
import io
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from store import accounts, clock, marketplace, tokens, tokens_format
from store.catalog import CUSTOM_KEY
from store.db import Store
from tui import cli, clipboard
from tui.app import IntegrationsAdmin
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.form import FormDialog
from tui.screens.token_once import TokenOnceScreen
from tui.widgets.filter_table import FilterTable

from ..ui import flat, screen_text, type_text

TOKEN_RE = re.compile(r"iadm_[0-9A-Za-z]{35}")
T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def fake_token(n: int = 0) -> str:
    """An obviously fake token with a valid checksum (snapshot fixtures only)."""
    body = f"EXAMPLE0not0a0real0token{n:05d}"
    return tokens_format.PREFIX + body + tokens_format.checksum(body)


def all_text_on_screens(app) -> str:
    """What every screen of every section would show, plus the notifications."""
    parts = [screen_text(app)]
    for stack in app._screen_stacks.values():
        for screen in stack:
            for widget in screen.query("Static, Label, DataTable"):
                # A widget that cannot render detached shows nothing.
                with contextlib.suppress(Exception):
                    parts.append(str(widget.render()))
    parts.extend(n.message for n in app._notifications)
    return "\n".join(parts)


def stored_bytes(store: Store) -> bytes:
    """Everything the database holds about tokens, as bytes."""
    if store.path is not None:
        with store.engine.connect() as c:
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        files = [p for p in store.path.parent.glob(store.path.name + "*") if p.is_file()]
        return b"".join(p.read_bytes() for p in files)
    with store.engine.connect() as c:
        rows = c.execute(text("SELECT * FROM api_token")).all()
        rows += c.execute(text("SELECT * FROM audit_entry")).all()
    return repr(rows).encode()


async def open_tokens_tab(pilot) -> None:
    await pilot.press("enter", "3")
    await pilot.pause()


# -- generate, copy, close ---------------------------------------------------------


async def test_generate_copy_close_by_keys(store, owner, local_clip):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_tokens_tab(pilot)
        assert "No API tokens yet: press n to generate one." in flat(app)
        await pilot.press("n")
        assert isinstance(app.screen, FormDialog)
        await type_text(pilot, "ERP sync")
        await pilot.press("tab", "enter", "down", "down", "enter")  # Expires: 90 days
        await pilot.press("ctrl+s")
        await pilot.pause()

        once = app.screen
        assert isinstance(once, TokenOnceScreen)
        shown = screen_text(app)
        (token,) = TOKEN_RE.findall(shown)
        assert tokens_format.is_well_formed(token)
        assert "It will not be shown again." in shown
        assert not app.use_command_palette  # no palette (and no Screenshot) over a token

        await pilot.press("c")
        await pilot.pause()
        assert app.clipboard == token
        assert local_clip == [token]
        assert "Copied to your terminal's clipboard and to the local clipboard." in flat(app)

        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, TokenOnceScreen)
        assert not once.shown
        assert app.use_command_palette
        assert app.clipboard == ""  # Textual's in-app clipboard forgot it too
        assert token not in all_text_on_screens(app)

        (info,) = tokens.list_for_integration(store, owner.account_id, iid)
        assert (info.name, info.status, info.hint) == (
            "ERP sync",
            "active",
            tokens_format.hint(token),
        )
        assert info.expires_at is not None
        assert info.expires_at - info.created_at == timedelta(days=90)
        table = app.screen.query_one("#token-list", FilterTable)
        assert table.selected_key == str(info.id)  # the new token is selected
        assert "ERP sync" in screen_text(app) and info.hint in screen_text(app)

    blob = stored_bytes(store)
    assert blob
    assert token.encode() not in blob
    assert token[5:34].encode() not in blob
    # The token the screen showed is the one the store accepts.
    assert tokens.verify(store, token).token_name == "ERP sync"


async def test_one_time_screen_cannot_be_reopened(store, owner, local_clip):
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_tokens_tab(pilot)
        await pilot.press("n")
        await type_text(pilot, "ERP")
        await pilot.press("ctrl+s")
        await pilot.pause()
        once = app.screen
        assert isinstance(once, TokenOnceScreen)
        (token,) = TOKEN_RE.findall(screen_text(app))
        await pilot.press("escape")  # escape closes too, without copying
        await pilot.pause()
        assert not once.shown and not once.is_attached
        # Every key of the tab: nothing brings the token back.
        for key in ("enter", "slash", "escape", "1", "2", "3", "ctrl+v"):
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, TokenOnceScreen)
            assert token not in all_text_on_screens(app)
        # Even the old screen object, if someone kept it, has nothing left to copy.
        once.action_copy()
        assert app.clipboard == "" and local_clip == []
        assert all(token not in repr(v) for v in vars(once).values())


async def test_one_time_screen_keeps_the_user_until_closed(store, owner, local_clip):
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_tokens_tab(pilot)
        await pilot.press("n")
        await type_text(pilot, "ERP")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("m", "i", "ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, TokenOnceScreen)
        assert "shown only once" in flat(app)


async def test_generate_refusal_keeps_the_form(store, owner, local_clip):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    tokens.generate(store, owner, iid, name="ERP")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_tokens_tab(pilot)
        await pilot.press("n")
        await type_text(pilot, "erp")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        assert app.screen.values()["name"] == "erp"
        assert "This integration already has a token named 'erp'." in flat(app)
    assert len(tokens.list_for_integration(store, owner.account_id, iid)) == 1


# -- revoke ------------------------------------------------------------------------


async def test_revoke_by_keys(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    info, tok = tokens.generate(store, owner, iid, name="Old ERP")
    tokens.generate(store, owner, iid, name="New ERP")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_tokens_tab(pilot)
        table = app.screen.query_one("#token-list", FilterTable)
        while table.selected_key != str(info.id):
            await pilot.press("down")
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        assert "Revoke the API token Old ERP?" in flat(app)
        assert info.hint in flat(app)
        await pilot.press("n")  # no: nothing changes
        await pilot.pause()
        assert tokens.get(store, owner.account_id, info.id).status == "active"

        await pilot.press("d", "y")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
        assert "API token 'Old ERP' revoked." in flat(app)
        row = next(line for line in screen_text(app).splitlines() if "Old ERP" in line)
        assert "revoked" in row

        await pilot.press("d")  # again: said, not asked
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
        assert "already revoked" in flat(app)

    statuses = {t.name: t.status for t in tokens.list_for_integration(store, owner.account_id, iid)}
    assert statuses == {"Old ERP": "revoked", "New ERP": "active"}
    with pytest.raises(Exception, match="revoked"):
        tokens.verify(store, tok)


async def test_member_cannot_generate_or_revoke(store, owner, member):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    info, _ = tokens.generate(store, owner, iid, name="ERP")
    app = IntegrationsAdmin(store, member)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_tokens_tab(pilot)
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
        assert "Manage add-ons and integrations" in flat(app)
        await pilot.press("d")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
    assert [t.status for t in tokens.list_for_integration(store, owner.account_id, iid)] == [
        "active"
    ]
    assert tokens.get(store, owner.account_id, info.id).revoked_at is None


async def test_native_integration_tokens_are_managed_and_hidden(store, owner):
    marketplace.enable(store, owner, "salesforce")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_tokens_tab(pilot)
        shown = flat(app)
        assert "managed automatically and is not visible" in shown
        assert "iadm_" not in shown
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
        assert "Tokens you generate belong to the Custom integration" in flat(app)


# -- clipboard -----------------------------------------------------------------------


class _FakeApp:
    def __init__(self) -> None:
        self.osc52: list[str] = []
        self.notes: list[tuple[str, str]] = []

    def copy_to_clipboard(self, text: str) -> None:
        self.osc52.append(text)

    def notify(self, message: str, *, title: str = "", severity: str = "information") -> None:
        self.notes.append((message, severity))


@pytest.mark.parametrize(
    ("env", "system", "release", "expected"),
    [
        ({"SSH_CONNECTION": "10.0.0.2 5 10.0.0.1 22"}, "Linux", "6.1", "over SSH"),
        ({"SSH_TTY": "/dev/pts/3"}, "Darwin", "23.0", "over SSH"),
        ({"SSH_TTY": "/dev/pts/3", "DISPLAY": "localhost:10.0"}, "Linux", "6.1", None),
        ({"SSH_TTY": "/dev/pts/3", "WAYLAND_DISPLAY": "wayland-0"}, "Linux", "6.1", None),
        ({}, "Linux", "6.1", "no display"),
        ({}, "Linux", "5.15.90.1-microsoft-standard-WSL2", None),
        ({"DISPLAY": ":0"}, "Linux", "6.1", None),
        ({}, "Darwin", "23.0", None),
        ({}, "Windows", "10", None),
    ],
)
def test_when_there_is_a_local_clipboard(env, system, release, expected):
    assert clipboard.no_local_clipboard(env, system=system, release=release) == expected
    assert clipboard.local_clipboard_available(env, system=system, release=release) == (
        expected is None
    )


def test_copy_over_ssh_uses_osc52_only(monkeypatch):
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.2 5 10.0.0.1 22")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    called: list[str] = []
    monkeypatch.setattr(clipboard, "_local_copy", called.append)
    app = _FakeApp()
    message = clipboard.copy(app, "secret-text")  # type: ignore[arg-type]
    assert app.osc52 == ["secret-text"] and called == []
    assert (
        message == "Copied to your terminal's clipboard (OSC 52; over SSH, so no local clipboard)."
    )
    assert app.notes == [(message, "information")]


def test_copy_locally_too(local_clip):
    app = _FakeApp()
    message = clipboard.copy(app, "secret-text")  # type: ignore[arg-type]
    assert app.osc52 == ["secret-text"] and local_clip == ["secret-text"]
    assert message == "Copied to your terminal's clipboard and to the local clipboard."


def test_local_failure_is_said_not_raised(monkeypatch):
    monkeypatch.setattr(clipboard, "no_local_clipboard", lambda *a, **k: None)

    def broken(text: str) -> None:
        raise RuntimeError(f"xclip exited 1 while copying {text}")

    monkeypatch.setattr(clipboard, "_local_copy", broken)
    app = _FakeApp()
    message = clipboard.copy(app, "secret-text")  # type: ignore[arg-type]
    assert app.osc52 == ["secret-text"]
    assert message.startswith("Copied to your terminal's clipboard; the local clipboard failed:")
    assert "xclip exited 1" in message and "secret-text" not in message
    assert app.notes == [(message, "warning")]


def test_missing_clipboard_program_is_named(monkeypatch):
    import pyperclip

    monkeypatch.setattr(clipboard, "no_local_clipboard", lambda *a, **k: None)

    def none(_text: str) -> None:
        raise pyperclip.PyperclipException("Pyperclip could not find a copy/paste mechanism")

    monkeypatch.setattr(clipboard, "_local_copy", none)
    message = clipboard.copy(_FakeApp(), "x", notify=False)  # type: ignore[arg-type]
    assert "no clipboard program was found (install xclip, xsel or wl-clipboard)" in message


def test_a_hanging_clipboard_does_not_freeze(monkeypatch):
    monkeypatch.setattr(clipboard, "no_local_clipboard", lambda *a, **k: None)
    monkeypatch.setattr(clipboard, "LOCAL_TIMEOUT_S", 0.05)
    release = threading.Event()
    monkeypatch.setattr(clipboard, "_local_copy", lambda _t: release.wait(5))
    try:
        message = clipboard.copy(_FakeApp(), "x", notify=False)  # type: ignore[arg-type]
    finally:
        release.set()
    assert "the local clipboard failed: it did not answer within 0.05 seconds" in message


# -- command line ------------------------------------------------------------------


def _verify_cli(monkeypatch, capsys, store: Store, stdin: str) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = cli.main(["--db", store.url, "tokens", "verify"])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_verify(store, owner, monkeypatch, capsys):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    info, tok = tokens.generate(store, owner, iid, name="ERP")
    code, out, err = _verify_cli(monkeypatch, capsys, store, tok + "\n")
    assert (code, out, err) == (0, "Valid: API token 'ERP' of Custom integration.\n", "")
    assert tokens.get(store, owner.account_id, info.id).last_used_at is not None

    bad = tok[:-1] + ("A" if tok[-1] != "A" else "B")
    code, out, err = _verify_cli(monkeypatch, capsys, store, bad)
    assert code == 1 and out == ""
    assert err.startswith("Refused (malformed): ") and bad not in err

    code, _, err = _verify_cli(monkeypatch, capsys, store, tokens_format.new_token())
    assert code == 1 and err.startswith("Refused (unknown): ")

    tokens.revoke(store, owner, info.id)
    code, _, err = _verify_cli(monkeypatch, capsys, store, tok)
    assert code == 1 and err.startswith("Refused (revoked): ") and tok not in err


# -- snapshots ---------------------------------------------------------------------


@pytest.fixture
def snap_store(tmp_path: Path, monkeypatch):
    """A SQLite store at a fixed time with fake, deterministic tokens."""
    clock.fix(T0)
    fakes = iter(fake_token(n) for n in range(1, 100))
    monkeypatch.setattr(tokens_format, "new_token", lambda: next(fakes))
    store = Store(f"sqlite:///{tmp_path / 'snap.db'}")
    store.prepare()
    owner = accounts.sign_in(store, "alice", name="Alice Admin")
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    clock.fix(T0 - timedelta(days=40))
    tokens.generate(store, owner, iid, name="Legacy import", expires_in_days=30)
    clock.fix(T0 - timedelta(days=20))
    gone, _ = tokens.generate(store, owner, iid, name="Old CRM bridge")
    tokens.revoke(store, owner, gone.id)
    clock.fix(T0 - timedelta(days=2))
    _, erp = tokens.generate(store, owner, iid, name="ERP sync", expires_in_days=365)
    clock.fix(T0 - timedelta(hours=3))
    tokens.verify(store, erp)
    clock.fix(T0)
    yield store, owner, iid
    store.dispose()


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_snapshot_tokens_tab(snap_compare, snap_store, size):
    store, owner, _ = snap_store
    app = IntegrationsAdmin(store, owner)
    assert snap_compare(app, press=["enter", "3"], terminal_size=size)


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_snapshot_one_time_screen(snap_compare, snap_store, size):
    store, owner, iid = snap_store
    info = tokens.list_for_integration(store, owner.account_id, iid)[0]
    app = IntegrationsAdmin(store, owner)

    async def show(pilot) -> None:
        await pilot.press("enter", "3")
        app.push_screen(TokenOnceScreen(info, fake_token(0), integration_name="Custom integration"))
        await pilot.pause()

    assert snap_compare(app, run_before=show, terminal_size=size)
