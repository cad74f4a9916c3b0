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

from tests.benchmarks.terminal import Terminal  # noqa: E402

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
    mark = term.send(data)
    t0 = time.perf_counter()
    term.wait_for(marker, since=mark, timeout=timeout)
    return time.perf_counter() - t0


def measure(db: Path, runs: int, src: Path) -> dict[str, float]:
    opened = []
    for _ in range(runs):
        term = _start(db, src)
        try:
            opened.append(_key(term, b"a", OPENED))
        finally:
            term.close()
    keys: dict[str, list[float]] = {"m": [], "q": [], "jon": [], "qzx": []}
    term = _start(db, src)
    try:
        _key(term, b"a", OPENED)
        term.send(b"/")
        _settle(term, 1.0)
        for _ in range(runs):
            for text in keys:
                if len(text) > 1:
                    _key(term, text[:-1].encode(), f"'{text[:-1]}'")
                    _settle(term, 0.5)
                keys[text].append(_key(term, text[-1].encode(), f"'{text}'"))
                _settle(term, 0.5)
                mark = term.send(b"\x15")  # ctrl+u: the filter box emptied, the whole log back
                term.wait_for(OPENED, since=mark, timeout=60)
                _settle(term, 1.0)
    finally:
        term.close()
    out = {"open": statistics.median(opened)}
    out.update({f"key {k!r}": statistics.median(v) for k, v in keys.items()})
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m tests.benchmarks.terminal_keys")
    p.add_argument("db", nargs="+", type=Path)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--src", type=Path, default=ROOT, help="the checkout to run (default: this)")
    args = p.parse_args(argv)
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; program from {args.src}")
    results = {}
    for db in args.db:
        results[db] = measure(db, args.runs, args.src)
        row = ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in results[db].items())
        print(f"{db}: {row}", flush=True)
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    main()
