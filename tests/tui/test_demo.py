"""The demo: the shipped walk-through played to the end on the demo account,
presenter mode, the script language, the demo command, and screenshots that
come out byte for byte the same."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from store import blueprints, demo, integrations, playbooks, tokens, webhooks
from store.catalog import CUSTOM_KEY
from tests.ui import screen_text
from tui import cli
from tui import demo as tdemo
from tui.app import IntegrationsAdmin
from tui.screenshots import SHOTS, take_screenshots

ROOT = Path(__file__).resolve().parents[2]
STORY = ROOT / "demo" / "main-story.txt"


class _AsOfTheDelivery(StandardWebhook):
    """standardwebhooks refuses timestamps older than 5 minutes; the demo's clock
    is fixed in the past, so check the signature as of the delivery."""

    def _Webhook__verify_timestamp(self, header: str) -> datetime:
        return datetime.fromtimestamp(int(header), UTC)


# -- the main story -----------------------------------------------------------------------


async def test_main_story_plays_to_the_end_and_leaves_what_it_shows():
    steps = tdemo.parse_script(STORY.read_text(encoding="utf-8"), name=str(STORY))
    assert tdemo.variant_of(steps) == "story"
    with (
        demo.DemoReceiver(port=0) as receiver,
        demo.deterministic(demo.RUNTIME_FIRST),
        tdemo.demo_store("story", receiver_url=receiver.url) as (store, built),
    ):
        aid = built.account_id
        assert CUSTOM_KEY not in built.integrations
        app = IntegrationsAdmin(store, built.owner, presenter=True)
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await tdemo.play(pilot, steps, speed=1e6, receiver_url=receiver.url)
            # At this speed the story's notices are all still up, and may cover
            # the page (how many have expired depends on the machine's speed).
            app.clear_notifications()
            await pilot.pause()
            final = " ".join(screen_text(app).split())
            assert "Complete: every required blueprint field is mapped." in final

        custom = next(i for i in integrations.active(store, aid) if i.key == CUSTOM_KEY)
        bps = blueprints.for_integration(store, aid, custom.id)
        assert [b.name for b in bps] == ["Order data"]
        fields = blueprints.detail(store, aid, bps[0].id).fields
        assert [(f.name, f.description, f.mapping_required) for f in fields] == [
            ("Order number", "The ERP's order id", True)
        ]

        (token,) = tokens.list_for_integration(store, aid, custom.id)
        assert (token.name, token.status) == ("ERP connector", "active")
        # The token copied is the demo's obviously fake one, and it verifies.
        assert copied == [demo.fake_token(demo.RUNTIME_FIRST)]
        assert tokens.verify(store, copied[0]).token_name == "ERP connector"

        (hook,) = webhooks.list_for_integration(store, aid, custom.id)
        assert hook.url == f"{receiver.url}/hooks/contracts"
        assert hook.verified and hook.signed and hook.key_generated
        assert hook.delivery_count == 1 and hook.last_success
        # The receiver got the test, signed with the key ctrl+g generated.
        ((path, headers, body),) = receiver.received
        assert path == "/hooks/contracts"
        key = demo.fake_signing_key(demo.RUNTIME_FIRST)
        payload = _AsOfTheDelivery(key[len("whsec_") :]).verify(body, headers)
        assert payload["events"][0]["type"] == "webhook:test"

        sales = playbooks.detail(store, aid, built.playbooks["Sales agreement"])
        assert sales.complete
        row = next(r for r in sales.mappings if r.blueprint_name == "Order data")
        assert (row.field_name, row.data_field_name) == ("Order number", "Order number")


# -- presenter mode --------------------------------------------------------------------


def _demo_app(store_and_demo, *, presenter: bool) -> IntegrationsAdmin:
    store, built = store_and_demo
    return IntegrationsAdmin(store, built.owner, presenter=presenter)


@pytest.fixture
def demo_db():
    with demo.deterministic(demo.RUNTIME_FIRST), tdemo.demo_store("full") as pair:
        yield pair


async def _screen_after(app: IntegrationsAdmin, keys: list[str], text: str = "") -> list[str]:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*keys)
        if text:
            await pilot.press(*text)
        await pilot.pause()
        return screen_text(app).splitlines()


async def test_presenter_shows_keys_and_changes_nothing_else(demo_db):
    keys = ["j", "j", "j", "enter", "2", "n"]
    plain = await _screen_after(_demo_app(demo_db, presenter=False), keys, "Invoices")
    shown = await _screen_after(_demo_app(demo_db, presenter=True), keys, "Invoices")
    row = len(shown) - 2  # just above the footer
    # Keys as caps, text typed into the input as one chunk, newest on the right.
    assert shown[row].split() == ["j", "j", "j", "enter", "2", "n", "Invoices"]
    assert plain[row].split() == []
    assert [line for i, line in enumerate(shown) if i != row] == [
        line for i, line in enumerate(plain) if i != row
    ]


async def test_presenter_from_the_palette_and_off_again(demo_db):
    app = _demo_app(demo_db, presenter=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p", *"presenter")
        await pilot.pause(0.3)
        await pilot.press("enter")
        assert app.presenter.on
        await pilot.press("m", "question_mark")
        await pilot.pause()
        # The help dialog is a screen of its own: the keys follow onto it.
        assert screen_text(app).splitlines()[-2].split()[-2:] == ["m", "?"]
        await pilot.press("escape", "ctrl+p", *"presenter")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert not app.presenter.on
        assert not app.screen.query("KeyCaster")


async def test_presenter_never_shows_a_signing_key_being_typed(demo_db):
    app = _demo_app(demo_db, presenter=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("j", "j", "j", "enter", "4", "n", *"https://a.example", "tab")
        await pilot.press(*"my-secret-key-1234")
        await pilot.pause()
        # The form's buttons reach the line above the footer: the keys show on the last.
        row = screen_text(app).splitlines()[-1]
        assert row.split()[-2:] == ["tab", "•" * 18]
        assert "secret" not in row


async def test_presenter_keys_fade_when_idle(demo_db):
    app = _demo_app(demo_db, presenter=True)
    app.presenter.keep_s = 0.05
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("m")
        await pilot.pause(0.5)
        assert app.presenter.render_keys() is None
        assert screen_text(app).splitlines()[-2].split() == []


def test_presenter_flags():
    args = cli._parser().parse_args(["--presenter"])
    assert args.presenter and args.command is None
    args = cli._parser().parse_args(["demo", "--presenter", "--play", "x.txt", "--speed", "2"])
    assert args.demo_presenter and args.play == "x.txt" and args.speed == 2.0


# -- the script language and the command ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("key m\nfly away", "line 2: unknown command 'fly'"),
        ("pause soon", "line 1: pause takes seconds"),
        ("key m\ndata story", "line 2: 'data' must be the first step"),
        ("data fancy", "data is one of full, story"),
        ("# nothing\ntype", "line 2: type needs an argument"),
    ],
)
def test_script_errors_name_the_line(text, message):
    with pytest.raises(tdemo.ScriptError, match=message):
        tdemo.parse_script(text, name="s.txt")


def test_script_keeps_typed_text_as_written():
    steps = tdemo.parse_script("# c\n\ntype  two  spaces \nkey j  k\npause 0.5")
    assert [(s.line, s.command, s.arg) for s in steps] == [
        (3, "type", " two  spaces "),
        (4, "key", "j  k"),
        (5, "pause", "0.5"),
    ]
    assert steps[1].keys == ["j", "k"]


def test_demo_command_refuses_a_bad_script(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("key m\nteleport\n", encoding="utf-8")
    assert cli.main(["demo", "--play", str(bad)]) == 2
    assert "bad.txt, line 2: unknown command 'teleport'" in capsys.readouterr().err
    assert cli.main(["demo", "--play", str(tmp_path / "missing.txt")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_demo_command_runs_and_deletes_its_database(tmp_path, monkeypatch):
    """The command itself, headless, with a script that looks around and quits;
    its temporary database is gone afterwards and the user's was never touched."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    monkeypatch.setenv("INTEGRATIONS_ADMIN_DB", str(tmp_path / "mine.db"))
    script = tmp_path / "look.txt"
    script.write_text("key m\nwait Marketplace\nkey a\nwait account.settings\nkey q\n")
    assert tdemo.run_demo(script=script, speed=1e6, headless=True) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["look.txt"]


def test_demo_command_reports_a_script_that_stops(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(tdemo, "WAIT_TIMEOUT_S", 0.2)
    script = tmp_path / "stuck.txt"
    script.write_text("key m\nwait Something that never shows\n")
    assert tdemo.run_demo(script=script, speed=1e6, headless=True) == 1
    err = capsys.readouterr().err
    assert "the script stopped: line 2: waited 0.2 s for 'Something that never shows'" in err


# -- screenshots -------------------------------------------------------------------------

# A representative subset (the full set takes a couple of minutes): the first
# paint, a form being typed into (cursor), the one-time token, a live webhook
# test to the receiver (latency) and a failing one, a delivery, the palette,
# presenter mode, a wide screen, a modal over a screen loaded by a worker.
SUBSET = [
    "integrations",
    "blueprint-form",
    "token-once",
    "webhook-form-verified",
    "webhook-form-failed",
    "delivery",
    "palette-search",
    "presenter",
    "mappings-wide",
    "audit-entry",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_screenshots_are_the_same_bytes_every_time(tmp_path):
    port = _free_port()  # the receiver's URL shows on screen: same port both times
    first = take_screenshots(tmp_path / "a", only=SUBSET, port=port)
    second = take_screenshots(tmp_path / "b", only=SUBSET, port=port)
    assert sorted(p.name for p in first) == sorted(f"{n}.svg" for n in SUBSET)
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), f"{a.name} differs between two runs"
    token_once = (tmp_path / "a" / "token-once.svg").read_text(encoding="utf-8")
    # The SVG escapes spaces and some characters; the fake token's body shows as is.
    assert "DEMOnotARealToken" in token_once


def test_committed_screenshots_cover_every_shot_and_the_readme():
    shots = ROOT / "screenshots"
    names = [s.name for s in SHOTS]
    assert len(names) == len(set(names))
    assert sorted(p.stem for p in shots.glob("*.svg")) == sorted(names)
    index = (shots / "README.md").read_text(encoding="utf-8")
    assert all(f"({n}.svg)" in index for n in names)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    refs = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert "screenshots/integrations.svg" in refs
    assert all((ROOT / ref).is_file() for ref in refs), refs
