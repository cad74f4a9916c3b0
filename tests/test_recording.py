"""``demo --play SCRIPT --record FILE.cast`` (issue 20): an asciicast v2 file
with real timings, replayed into a terminal emulator (pyte) to read the
screen it ends on; a secret typed appears as bullets only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyte

ROOT = Path(__file__).resolve().parent.parent
STORY = ROOT / "demo" / "main-story.txt"
TYPED_KEY = "Typed-Sgn-Kx-7Rq0m4Zt2Vw9-Lb"


def _record(script: Path, cast: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tui.cli",
            "demo",
            "--play",
            str(script),
            "--record",
            str(cast),
            *extra,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _read(cast: Path) -> tuple[dict, list[list]]:
    header, *events = cast.read_text(encoding="utf-8").splitlines()
    return json.loads(header), [json.loads(e) for e in events]


def _last_screen(header: dict, events: list[list]) -> list[str]:
    """What the terminal showed just before the program left its screen."""
    screen = pyte.Screen(header["width"], header["height"])
    stream = pyte.Stream(screen)
    for _t, _kind, data in events:
        if "\x1b[?1049l" in data:  # back to the normal screen: the program quit
            stream.feed(data.split("\x1b[?1049l")[0])
            break
        stream.feed(data)
    return screen.display


def test_the_main_story_recorded_ends_on_its_last_page(tmp_path):
    cast = tmp_path / "story.cast"
    done = _record(STORY, cast, "--size", "100x30", "--speed", "20", "--presenter")
    assert done.returncode == 0, done.stderr
    assert f"Wrote {cast}" in done.stderr
    header, events = _read(cast)
    assert header["version"] == 2
    assert (header["width"], header["height"]) == (100, 30)
    assert isinstance(header["timestamp"], int)
    assert len(events) > 50
    times = [e[0] for e in events]
    assert all(kind == "o" and isinstance(data, str) for _t, kind, data in events)
    assert times == sorted(times) and times[0] >= 0
    assert times[-1] > 2  # real timings: the script's pauses, even at --speed 20
    lines = _last_screen(header, events)
    text = "\n".join(lines)
    # The story's last page: the playbook's Mappings tab, the new field mapped.
    assert "Playbooks › Sales agreement" in text
    assert any(ln.split()[:4] == ["Order", "data", "Order", "number"] for ln in lines)
    assert all(len(ln) == 100 for ln in lines)
    # Presenter mode's keys are in the recording: the story's last two keys, 1 then 3.
    assert lines[-2].split()[-2:] == ["1", "3"]


def test_a_typed_secret_is_recorded_as_bullets(tmp_path):
    script = tmp_path / "secret.txt"
    script.write_text(
        f"key j j j enter 4 n\ntype {{receiver}}/hook\nkey tab\ntype {TYPED_KEY}\npause 0.5\n",
        encoding="utf-8",
    )
    cast = tmp_path / "secret.cast"
    done = _record(script, cast, "--size", "80x24", "--speed", "10", "--presenter")
    assert done.returncode == 0, done.stderr
    raw = cast.read_text(encoding="utf-8")
    assert "•" in raw
    assert all(TYPED_KEY[i : i + 4] not in raw for i in range(len(TYPED_KEY) - 3))
    header, events = _read(cast)
    assert "•••••" in "\n".join(_last_screen(header, events))
