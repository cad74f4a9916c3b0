"""Flat memory (issue 19): the largest playbook (300 data fields mapped from 5
blueprints of 60) opened and closed 100 times, headless, in a fresh process
(tests/benchmarks/memory.py), keeps nothing of the closed pages.

What is measured, after a full ``gc.collect()``:

- the number of live ``StylesCache`` objects (one per widget drawn): the same
  after 100 openings as after 5. Textual as it is (textual#6665) keeps up to
  1,024 of them, each with the lines its widget drew (143 after 5 openings,
  1,029 after 60 and 100 here): exact, fails without the workaround;
- what Python allocated from the 5th opening on and is still alive
  (tracemalloc, started after the 5th opening): at most a few MB. Deterministic
  up to Textual's bounded caches;
- RSS: reported, not asserted (see the end of the test). Once the closed pages are freed, RSS
  still rises some 30 MB over the first 60 openings and then levels off: that
  is Python's small-object allocator holding partly used arenas (its used bytes
  stay flat; see the benchmark's ``pymalloc`` figures), not objects kept alive.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OPENINGS = 100
TRACED_GROWTH_LIMIT_KB = 3 * 1024


def test_opening_the_largest_playbook_100_times_keeps_nothing_of_it(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.benchmarks.memory",
            "--openings",
            str(OPENINGS),
            "--traced-from",
            "5",
            "--db",
            str(tmp_path / "largest.db"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    at5, at100 = result["points"]["5"], result["points"][str(OPENINGS)]
    figures = (
        f"RSS {at5['VmRSS'] // 1024} MB after 5, {at100['VmRSS'] // 1024} MB after "
        f"{OPENINGS}; still alive of what was allocated since the 5th: {at100['traced_kb']} KiB; "
        f"StylesCache objects {at5['styles_caches']} -> {at100['styles_caches']}"
    )
    print(figures)
    assert at100["widgets_alive"] == 0, figures
    assert at100["styles_caches"] <= at5["styles_caches"], figures
    assert at100["traced_kb"] <= TRACED_GROWTH_LIMIT_KB, figures
    # RSS is printed, not asserted: it moved from +31 MB (the branch alone, quiet)
    # to +119 MB (after the issue 15 and 17 work merged, on a loaded machine) while
    # the objects above stayed flat; what holds it is not found yet (issue 19's
    # target, 10 MB, is not met), and a bound that one run passes and the next
    # fails guards nothing.
