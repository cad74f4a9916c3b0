"""Keystrokes as a person sees them: the program in a pseudo-terminal
(tests/benchmarks/terminal.py), each time measured from writing the key's bytes
to the terminal until the rows it brings are written back (headless timings
miss Textual's own timers and the terminal's writes).

    .venv/bin/python -m tests.benchmarks.terminal_keys DB [DB ...] [--runs 7] [--src DIR]

For each SQLite database (a large account, tests/benchmarks/large_account.py,
at any scale) it prints the medians of:

- opening the audit log (`a`, in a program just started) until its title
  "..., newest first" is written with the first rows;
- a filter keystroke in the audit log until the title naming the filter (it
  is written with the rows): `m` (many matches), `q` (none), and a third
  character, `jon` after `jo` (matches: the actor "jonas") and `qzx` after
  `qz` (none): one- and two-character filters look at the newest rows only,
  three and more use the search index.

``--logs`` also (by default) times the busy webhook's delivery log and the
Custom integration's API requests tab the same way: the key that opens it, then
`s`/`c` (many), `q` (none in the delivery log; many in the request log, in the
tokens' hints), `sig`/`con` (matches) and `qzx` (none), until the title or note
naming the filter is written with the rows.

``--src DIR`` runs the program from another checkout (a "before" table:
main's code on a database of its schema), with this interpreter.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.terminal import Terminal, compiled  # noqa: E402

PAINTED = "Salesforce"  # the Integrations list's first row: the program is up
OPENED = "newest first"


def _start(db: Path, src: Path) -> Terminal:
    env = {"INTEGRATIONS_ADMIN_DB": str(db), "PYTHONPATH": str(src)}
    term = Terminal([sys.executable, "-m", "tui.cli"], env=env, cwd=str(src))
    term.wait_for(PAINTED, timeout=120)
    return term


def _settle(term: Terminal, seconds: float) -> None:
    """Let what the last key started (a count, say) finish: read for a while."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        term._read(0.05)


def _key(term: Terminal, data: bytes, marker: str, timeout: float = 60) -> float:
    t0 = time.perf_counter()
    mark = term.send(data)
    return term.wait_for(marker, since=mark, timeout=timeout) + term.started - t0


# The three long logs, reached by keys from the Integrations list: the large
# account's Custom integration is its 11th row, its busy webhook the first of the tab.
# Each step: a key, and what shows that its screen is ready for the next one.
DOWN10, ENTER = b"\x1b[B" * 10, b"\r"  # ten times down: the Custom integration's row
TO_TABS = [(DOWN10, None), (ENTER, "API requests")]
LOGS = {
    "audit": (
        [(b"a", None)],
        OPENED,
        "{shown}",  # in the title "Audit log · 20 of 100,000 entries match 'jon'"
        {"m": "many", "q": "none", "jon": "match", "qzx": "none"},
    ),
    "deliveries": (
        [*TO_TABS, (b"4", "50 webhooks"), (ENTER, None)],
        "delivered",  # a row's state (the queue's): the title is there before the rows
        "{shown}",  # in the title "Delivery log matching 'sig', ..."
        {"s": "many", "q": "none", "sig": "match", "qzx": "none"},
    ),
    "requests": (
        [*TO_TABS, (b"5", None)],
        "/v1/",  # a row's path
        "{shown}",  # in the note "Matching 'con', newest first ..."
        {"c": "many", "q": "many", "con": "match", "qzx": "none"},  # `q`: in the tokens' hints
    ),
}


def _go(term: Terminal, steps: list[tuple[bytes, str | None]]) -> None:
    for key, ready in steps:
        if ready is None:
            term.send(key)
        else:
            _key(term, key, ready)
        _settle(term, 0.5)


def measure_log(db: Path, runs: int, src: Path, which: str) -> dict[str, float]:
    """The audit log, the delivery log (the busy webhook's page) or the API requests
    tab: the last key that opens it until its first rows, then filter keystrokes."""
    nav, opened_marker, matching, texts = LOGS[which]
    opened = []
    term = None
    for _ in range(runs):
        term = _start(db, src)
        try:
            _go(term, nav[:-1])
            opened.append(_key(term, nav[-1][0], opened_marker))
        finally:
            term.close()
    keys: dict[str, list[float]] = {t: [] for t in texts}
    term = _start(db, src)
    try:
        _go(term, nav[:-1])
        _key(term, nav[-1][0], opened_marker)
        term.send(b"/")
        _settle(term, 1.0)
        for _ in range(runs):
            for text in keys:
                if len(text) > 1:
                    _key(term, text[:-1].encode(), matching.format(shown=repr(text[:-1])))
                    _settle(term, 0.5)
                keys[text].append(_key(term, text[-1].encode(), matching.format(shown=repr(text))))
                _settle(term, 0.5)
                mark = term.send(b"\x15")  # ctrl+u: the filter box emptied, the whole log back
                term.wait_for(opened_marker, since=mark, timeout=60)
                _settle(term, 1.0)
    finally:
        term.close()
    out = {"open": statistics.median(opened)}
    out.update({f"key {k!r} ({texts[k]})": statistics.median(v) for k, v in keys.items()})
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m tests.benchmarks.terminal_keys")
    p.add_argument("db", nargs="+", type=Path)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--src", type=Path, default=ROOT, help="the checkout to run (default: this)")
    p.add_argument(
        "--logs",
        nargs="+",
        choices=list(LOGS),
        default=list(LOGS),
        help="which logs (default: all three)",
    )
    p.add_argument(
        "--as-source",
        action="store_true",
        help="do not compile the checkout first (as an installation does)",
    )
    args = p.parse_args(argv)
    if not args.as_source:
        compiled(args.src)
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; program from {args.src}")
    for which in args.logs:
        for db in args.db:
            result = measure_log(db, args.runs, args.src, which)
            row = ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in result.items())
            print(f"{which} {db}: {row}", flush=True)
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    main()
