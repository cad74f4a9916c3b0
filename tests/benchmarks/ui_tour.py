"""The screens of the large account, driven headless in a fresh process
(``python -m tests.benchmarks.ui_tour URL JSON``); prints one JSON object.

Each timing runs from the key event entering the app to the app having
finished reacting: every queued message handled, every worker the key started
done (a filter runs in a thread worker), then one screen refresh (the
compositor has rendered the new frame; headless, so only the final escape
codes are not written). Pilot's own ``press`` is not used for timing: it
sleeps at least 2 x 20 ms per key to wait for idleness. A key that does
nothing is timed the same way, as the harness's own cost.

The process's peak RSS (``VmHWM``) is reported at the end, after the
largest playbook, its Mappings tab, the audit log and the busy webhook's
delivery log have all been open.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time

from textual import events
from textual.worker import WorkerState


async def settle(app, pilot) -> None:
    """Until the app has handled everything a key caused, and repainted: every
    message queue of the app and the screen's widgets empty and no worker
    running, for a few turns of the event loop in a row, then one refresh."""
    quiet = 0
    while quiet < 3:
        await asyncio.sleep(0)
        busy = any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers)
        if not busy:
            nodes = [app, *app.screen.walk_children(with_self=True)]
            busy = any(n.message_queue_size for n in nodes)
        quiet = 0 if busy else quiet + 1
        if busy:
            await asyncio.sleep(0.0002)
    await app.screen.wait_for_refresh()


def _key_event(name: str) -> events.Key:
    """The event a terminal key produces (as Pilot builds it)."""
    import unicodedata

    from textual.keys import REPLACED_KEYS, _get_unicode_name_from_key

    try:
        char = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(name, name)))
    except KeyError:
        char = name if len(name) == 1 else None
    return events.Key(name, char)


async def key(app, pilot, name: str, *, shown=None) -> float:
    """Send one key as the terminal would; seconds until the app settled.

    ``shown``: a list to append, as well, the seconds until the audit log's
    rows for the new filter are on the screen (the count of all matches may
    still be coming)."""
    await settle(app, pilot)
    ev = _key_event(name)
    ev.set_sender(app)
    before = getattr(app.screen, "generation", None)
    t0 = time.perf_counter()
    app._driver.send_message(ev)
    if shown is not None:
        screen = app.screen
        while not (screen.generation != before and screen.shown_generation == screen.generation):
            await asyncio.sleep(0.0002)
        await screen.wait_for_refresh()
        shown.append(time.perf_counter() - t0)
    await settle(app, pilot)
    return time.perf_counter() - t0


def rss_kb() -> dict[str, int]:
    """Current and peak resident set size of this process, in KiB."""
    out = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line[:5]] = int(line.split()[1])
    return out


async def tour(url: str, ids: dict, runs: int) -> dict:
    from store import accounts
    from store.db import Store
    from tui.app import IntegrationsAdmin, tune_gc
    from tui.screens.audit import AuditScreen
    from tui.screens.playbook import MappingsTab, PlaybookScreen
    from tui.screens.webhook import WebhookScreen
    from tui.widgets.filter_table import FilterTable

    tune_gc()  # as the program does (tui/cli.py)
    store = Store(url)
    store.prepare()
    actor = accounts.sign_in(store, ids["login"])
    app = IntegrationsAdmin(store, actor)
    out: dict[str, list[float]] = {
        "noop": [],
        "playbook_open": [],
        "mappings_tab": [],
        "audit_filter": [],
        "audit_filter_rows": [],
        "audit_filter_nomatch": [],
        "deliveries_filter": [],
        "deliveries_filter_nomatch": [],
    }
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        phases = {"first screen": rss_kb()}
        for _ in range(runs):
            out["noop"].append(await key(app, pilot, "x"))

        # The largest playbook from the Playbooks list, then its Mappings tab.
        await pilot.press("p")
        for _ in range(runs):
            lst = app.screen.query_one(FilterTable)
            lst.set_rows(lst._rows, select=str(ids["largest_playbook_id"]))
            out["playbook_open"].append(await key(app, pilot, "enter"))
            assert isinstance(app.screen, PlaybookScreen), app.screen
            out["mappings_tab"].append(await key(app, pilot, "3"))
            tab = app.screen.query_one(MappingsTab)
            assert tab.shown is not None and len(tab.shown.mappings) == 300
            await pilot.press("p")  # back to the list
        phases["largest playbook"] = rss_kb()

        # The audit log: one keystroke in the filter box (SQL over 100,000 entries).
        await pilot.press("a")
        assert isinstance(app.screen, AuditScreen)
        await pilot.press("slash")
        for ch, label in (
            ("m", "audit_filter"),  # many matches
            ("v", "audit_filter"),  # "revoke", "revealed", ...
            ("q", "audit_filter_nomatch"),  # no entry has a q: the whole table is scanned
        ):
            for _ in range(runs):
                rows = out["audit_filter_rows"] if label == "audit_filter" else None
                out[label].append(await key(app, pilot, ch, shown=rows))
                assert app.screen.filter_text == ch
                await pilot.press("backspace")
        phases["audit log"] = rss_kb()

        # The busy webhook's delivery log (100,000 deliveries), one filter keystroke.
        app.push_screen(WebhookScreen(ids["busy_webhook_id"]))
        await settle(app, pilot)
        await pilot.press("slash")
        for ch, label in (("f", "deliveries_filter"), ("q", "deliveries_filter_nomatch")):
            for _ in range(runs):
                out[label].append(await key(app, pilot, ch))
                await pilot.press("backspace")
        phases["delivery log"] = rss_kb()
        await pilot.press("q")
    store.dispose()
    result: dict = {k: statistics.median(v) for k, v in out.items()}
    result["max"] = {k: max(v) for k, v in out.items()}
    result["rss_phases"] = phases
    # VmHWM, not getrusage's ru_maxrss: on Linux that keeps the high-water mark of
    # the process before its exec, i.e. of the benchmark that started this one
    # (190 MB right after it built the large account, against 110 MB for the tour).
    result["peak_rss_kb"] = rss_kb()["VmHWM"]
    return result


def main() -> None:
    url, ids, runs = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(asyncio.run(tour(url, ids, runs))))


if __name__ == "__main__":
    main()
