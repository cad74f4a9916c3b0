"""The demo's account is built once per program version into a template in the
user cache folder, and copied at every start (issue 19): reused, built again
for another program version or a damaged file, never in the way when the
cache cannot be written, and the copy is the account a build makes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
from pathlib import Path

import pytest

from store import demo
from store.db import Store
from tui import demo as tdemo

from .test_cli_demo_exit import start_demo, wait_for_exit

RECEIVER = f"http://127.0.0.1:{demo.RECEIVER_PORT}"


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """A cache folder holding the full demo's template, built once for this module."""
    home = tmp_path_factory.mktemp("made")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(home))
        tdemo.fill_demo_database(home / "first.db", "full", receiver_url=RECEIVER)
    return home / "integrations-admin"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A cache folder of this test alone (the run's shared one may hold templates)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "integrations-admin" / "demo"


@pytest.fixture
def cached(cache, made) -> Path:
    """``cache``, holding the full demo's template already."""
    shutil.copytree(made, cache.parent)
    return cache


def fill(tmp_path: Path, name: str, variant: str = "full", receiver_url=RECEIVER):
    path = tmp_path / f"{name}.db"
    return path, tdemo.fill_demo_database(path, variant, receiver_url=receiver_url)


def rows(path: Path) -> list[str]:
    """Everything the file holds, as SQL."""
    with sqlite3.connect(path) as conn:
        return list(conn.iterdump())


def test_the_template_is_built_once_then_copied(cache, tmp_path):
    before = tdemo.templates_built
    first_path, first = fill(tmp_path, "first")
    assert tdemo.templates_built == before + 1
    assert sorted(p.name for p in cache.iterdir()) == [
        "full-receiver-47011.db",
        "full-receiver-47011.json",
    ]
    second_path, second = fill(tmp_path, "second")
    third_path, _ = fill(tmp_path, "third")
    assert tdemo.templates_built == before + 1  # copied, not built again
    assert second == first
    # Each demo gets its own copy: a change in one is not in the next.
    with sqlite3.connect(second_path) as conn:
        conn.execute("UPDATE account SET name = 'Changed'")
    assert rows(third_path) == rows(first_path) != rows(second_path)


def test_a_copy_holds_what_a_build_makes(cached, tmp_path):
    copy_path, copied = fill(tmp_path, "copy")
    built_path = tmp_path / "built.db"
    store = Store(f"sqlite:///{built_path}")
    try:
        built = demo.build(store, receiver_url=RECEIVER)
    finally:
        store.dispose()
    assert copied == built
    assert rows(copy_path) == rows(built_path)
    # The receiver's webhook is in it, at the receiver's usual port.
    assert f"{RECEIVER}/hooks/contracts" in copied.webhooks


def test_each_variant_and_receiver_has_its_template(cache, tmp_path):
    _, story = fill(tmp_path, "story", "story")
    _, plain = fill(tmp_path, "plain", "full", receiver_url=None)
    assert story.variant == "story" and "custom" not in story.integrations
    assert not any("127.0.0.1" in url for url in plain.webhooks)
    assert sorted(p.name for p in cache.iterdir()) == [
        "full.db",
        "full.json",
        "story.db",
        "story.json",
    ]


def test_another_program_version_builds_it_again(cached, tmp_path, monkeypatch):
    before = tdemo.templates_built
    # A template another version made: its key is not this program's.
    meta_path = cached / "full-receiver-47011.json"
    meta = json.loads(meta_path.read_text())
    meta["key"] = "0" * 32
    meta_path.write_text(json.dumps(meta))
    fill(tmp_path, "second")
    assert tdemo.templates_built == before + 1
    assert json.loads(meta_path.read_text())["key"] == tdemo.program_key()
    fill(tmp_path, "third")
    assert tdemo.templates_built == before + 1
    # A change of the code that builds the account (or of the template's format) is one too.
    monkeypatch.setattr(tdemo, "TEMPLATE_FORMAT", tdemo.TEMPLATE_FORMAT + 1)
    fill(tmp_path, "fourth")
    assert tdemo.templates_built == before + 2


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage",
    [
        lambda c: _flip_a_byte(c / "full-receiver-47011.db"),
        lambda c: (c / "full-receiver-47011.db").write_bytes(b""),
        lambda c: (c / "full-receiver-47011.db").unlink(),
        lambda c: (c / "full-receiver-47011.json").write_text("{not json"),
        lambda c: (c / "full-receiver-47011.json").write_text('{"key": 1}'),
        lambda c: (c / "full-receiver-47011.json").unlink(),
    ],
    ids=["a byte changed", "emptied", "file gone", "json broken", "json incomplete", "json gone"],
)
def test_a_damaged_template_is_built_again(cached, tmp_path, damage):
    good_path, good = fill(tmp_path, "good")
    damage(cached)
    before = tdemo.templates_built
    again_path, again = fill(tmp_path, "again")
    assert tdemo.templates_built == before + 1
    assert again == good and rows(again_path) == rows(good_path)


def test_a_cache_that_cannot_be_written_builds_in_place(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    before = tdemo.templates_built
    path, built = fill(tmp_path, "in-place")
    assert tdemo.templates_built == before + 1
    assert built.owner.login == demo.OWNER and rows(path)


def test_another_receiver_port_has_its_own_template_or_none(cache, tmp_path):
    """A second demo running gets the next known port, with its own template; a
    port outside those (any free one) builds in place."""
    before = tdemo.templates_built
    _, built = fill(tmp_path, "next", receiver_url="http://127.0.0.1:47012")
    _, again = fill(tmp_path, "next-again", receiver_url="http://127.0.0.1:47012")
    assert tdemo.templates_built == before + 1 and again == built
    assert "http://127.0.0.1:47012/hooks/contracts" in built.webhooks
    assert sorted(p.name for p in cache.iterdir()) == [
        "full-receiver-47012.db",
        "full-receiver-47012.json",
    ]
    _, other = fill(tmp_path, "other", receiver_url="http://127.0.0.1:47999")
    assert tdemo.templates_built == before + 2
    assert "http://127.0.0.1:47999/hooks/contracts" in other.webhooks
    assert len(list(cache.iterdir())) == 2  # no template for it


def test_a_second_receiver_takes_the_next_known_port():
    with demo.DemoReceiver() as first, demo.DemoReceiver() as second:
        if first.port != demo.RECEIVER_PORT:
            pytest.skip(f"port {demo.RECEIVER_PORT} is taken")
        assert second.port in demo.RECEIVER_PORTS and second.port != first.port


def test_a_second_demo_start_copies_the_template_the_first_made(tmp_path, cache):
    """Two real starts of ``integrations-admin demo``: the first builds the
    template, the second copies it (its files are the same files, untouched)."""
    pid, fd = start_demo(tmp_path)
    os.kill(pid, signal.SIGTERM)
    assert wait_for_exit(pid, fd) == 128 + signal.SIGTERM
    os.close(fd)
    made = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in cache.iterdir()}
    assert len(made) == 2  # the template of the receiver's port (another demo may hold 47011)
    pid, fd = start_demo(tmp_path)
    os.kill(pid, signal.SIGTERM)
    assert wait_for_exit(pid, fd) == 128 + signal.SIGTERM
    os.close(fd)
    now = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in cache.iterdir()}
    # The same files, untouched (or, had the port changed meanwhile, one more template).
    assert all(now[name] == seen for name, seen in made.items())
