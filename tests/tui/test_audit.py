"""The Audit log (`a`) by keys: filter, pages, an entry whole. Pilot tests on
both backends: assert on the screen, the notifications and the store."""

from __future__ import annotations

from store import audit
from tui.app import IntegrationsAdmin
from tui.screens.audit import PAGE, AuditEntryScreen, AuditScreen
from tui.screens.users import UsersScreen
from tui.widgets.filter_table import FilterTable

from ..helpers import bulk_insert
from ..ui import flat, screen_text, settle, type_text

# -- the audit log ------------------------------------------------------------------------


def table_rows(app) -> list[list[str]]:
    table = app.screen.table
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_audit_filter_returns_the_right_rows_among_100000(store, owner):
    bulk_insert(store, owner.account_id, 100_000)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("a")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        # One page, newest first: never the whole log.
        assert screen.table.row_count == PAGE
        assert table_rows(app)[0][1:4] == ["carol", "webhook.delete", "Object 100000"]
        # The count stops at 10,000 (no scan of the log on the way); `#` counts all.
        assert "10,000+ entries, newest first" in screen_text(app)

        await pilot.press("slash")
        await type_text(pilot, "carol")
        await settle(pilot)
        rows = table_rows(app)
        assert [r[3] for r in rows] == [f"Object {n}" for n in range(100_000, 0, -1000)]
        assert {r[1] for r in rows} == {"carol"}
        assert "100 of 10,000+ entries match 'carol'" in screen_text(app)

        # Narrow further while typing: by object name.
        await pilot.press("ctrl+u")
        await type_text(pilot, "object 9999")
        await settle(pilot)
        assert sorted(r[3] for r in table_rows(app)) == sorted(
            f"Object {n}" for n in [9_999, *range(99_990, 100_000)]
        )
        await type_text(pilot, "9")
        await settle(pilot)
        assert [r[3] for r in table_rows(app)] == ["Object 99999"]

        # escape clears the filter and returns to the whole log.
        await pilot.press("escape")
        await settle(pilot)
        assert screen.table.row_count == PAGE
        assert app.focused is screen.table

        # `#` counts them all, and the filters' matches from then on.
        assert "10,000+ entries, newest first" in screen_text(app)
        await pilot.press("number_sign")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert "100,001 entries, newest first" in screen_text(app)
        await pilot.press("slash")
        await type_text(pilot, "carol")
        await settle(pilot)
        assert "100 of 100,001 entries match 'carol'" in screen_text(app)
        # Two characters have no trigram: the newest 10,000 entries only, as it says.
        await pilot.press("ctrl+u")
        await type_text(pilot, "ca")
        await settle(pilot)
        assert "'ca' · the newest 10,000 only" in flat(app)
        assert {r[1] for r in table_rows(app)} == {"carol"}
        assert len(table_rows(app)) == 10


async def test_audit_pages_by_key_as_the_cursor_goes_down(store, owner):
    bulk_insert(store, owner.account_id, 1000)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("a")
        await settle(pilot)
        screen = app.screen
        assert len(screen.records) == PAGE
        for _ in range(6):
            await pilot.press("end")
            await settle(pilot)
        ids = [r.id for r in screen.records]
        assert len(ids) == 1001 == screen.table.row_count
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
        assert not screen.more


async def test_audit_uses_the_filter_box_of_every_list_with_its_pages(store, owner):
    """The audit log is a FilterTable (the box, `/`, escape, enter of every list)
    whose search runs in SQL; the next page is added under the cursor, not refilled."""
    bulk_insert(store, owner.account_id, 300)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("a")
        await settle(pilot)
        screen = app.screen
        listing = screen.query_one("#audit-list")
        assert isinstance(listing, FilterTable) and listing.table is screen.table
        await pilot.press("end")  # the last loaded entry: the next page comes
        await settle(pilot)
        assert screen.table.row_count == 301 == listing.row_count
        assert screen.table.cursor_row == PAGE - 1
        last = screen.records[PAGE - 1]
        assert screen.selected() is last and listing.selected_item is last
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AuditEntryScreen) and app.screen.record is last
        await pilot.press("escape", "slash")
        await type_text(pilot, "admin3")
        await settle(pilot)
        assert listing.filter_text == "admin3" and listing.row_count == 43  # i % 7 == 3
        assert {r.actor for r in screen.records} == {"admin3"}
        assert screen.selected() is screen.records[0]  # a search starts at its first row
        await pilot.press("escape")
        await settle(pilot)
        assert listing.row_count == PAGE and app.focused is screen.table


async def test_audit_enter_shows_an_entry_whole(store, owner):
    long_detail = "step " + " ".join(f"w{n}" for n in range(60)) + "\nsecond line [bold]x"
    with store.write(owner.account_id) as s:
        audit.record(
            s,
            account_id=owner.account_id,
            actor="alice",
            action="playbook.update",
            object_type="playbook",
            object_id=7,
            object_name="Sales [red]deal",
            detail=long_detail,
        )
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AuditEntryScreen)
        body = str(app.screen.query_one("#entry-body").content)
        assert "Object  playbook #7\n" in body
        assert "Name    Sales [red]deal\n" in body
        assert body.endswith("Detail\n" + long_detail)
        assert "Sales [red]deal" in screen_text(app)  # shown literally, not as markup
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AuditScreen)


async def test_audit_shows_what_happened_meanwhile(store, owner):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("a")
        await settle(pilot)
        assert [r[2] for r in table_rows(app)] == ["account.create"]
        await pilot.press("u", "n")
        await type_text(pilot, "carol")
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("a")
        await settle(pilot)
        assert table_rows(app)[0][1:4] == ["alice", "user.add", "carol"]


async def test_sections_are_in_the_palette_and_help(store, owner):
    from tui.commands import palette_commands
    from tui.screens.help import HelpScreen

    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        titles = [c.title for c in palette_commands(app, app.screen)]
        for title in ("Go to Audit log", "Go to Account", "Go to Users"):
            assert title in titles
        # Running the palette's command opens the section.
        [users_cmd] = [c for c in palette_commands(app, app.screen) if c.title == "Go to Users"]
        users_cmd.callback()
        await pilot.pause()
        assert isinstance(app.screen, UsersScreen)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = flat(app)
        assert "o Account: plan, limits with usage, settings" in text
        assert "u Users: roles and the permission" in text


async def test_a_filter_keystroke_counts_only_its_matches(store, owner):
    """The entries' total is counted as the log opens and when it reloads (a
    change by anyone), not again at every keystroke of the filter."""
    from sqlalchemy import event

    from store import users

    bulk_insert(store, owner.account_id, 700)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(100, 24), notifications=True) as pilot:
        await pilot.press("a")
        await settle(pilot)
        assert "701 entries, newest first" in screen_text(app)
        counts: list[str] = []

        def on_execute(_conn, _cursor, statement, *_args) -> None:
            if "count(" in statement.lower():
                counts.append(" ".join(statement.split()))

        event.listen(store.engine, "before_cursor_execute", on_execute)
        try:
            await pilot.press("slash")
            await type_text(pilot, "blue")  # more matches than a page: they are counted
            await settle(pilot)
            typed = list(counts)
            counts.clear()
            users.add(store, owner, "dave", name="Dave")  # another administrator's change
            app.screen.reload()
            await settle(pilot)
        finally:
            event.remove(store.engine, "before_cursor_execute", on_execute)
        assert typed and all("LIKE" in c.upper() for c in typed)  # the matches', counted
        assert any("LIKE" not in c.upper() for c in counts)  # the reload counts all
        assert "of 702 entries match 'blue'" in screen_text(app)


async def test_a_filters_count_waits_until_its_rows_are_drawn(store, owner):
    """The matches of a filter are counted after the screen has drawn its first
    page (the count no longer competes with the table's drawing for the
    interpreter), and the title then says how many. The table draws slowly
    here (50 ms): a count that did not wait would start meanwhile."""
    import time

    from sqlalchemy import event

    bulk_insert(store, owner.account_id, 700)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(100, 24), notifications=True) as pilot:
        await pilot.press("a")
        await settle(pilot)
        happened: list[str] = []
        display = app._display
        table = app.screen.table
        draw = table.render_lines

        def slowly(crop):
            time.sleep(0.05)
            return draw(crop)

        table.render_lines = slowly  # type: ignore[method-assign]

        def drawn(screen, update) -> None:
            if update is not None and "match (counting)" in screen_text(app):
                happened.append("rows drawn")
            display(screen, update)

        def on_execute(_conn, _cursor, statement, *_args) -> None:
            if "count(" in statement.lower():
                happened.append("count")

        app._display = drawn  # type: ignore[method-assign]
        event.listen(store.engine, "before_cursor_execute", on_execute)
        try:
            await pilot.press("slash")
            await type_text(pilot, "blue")  # more matches than a page: they are counted
            await settle(pilot)
        finally:
            event.remove(store.engine, "before_cursor_execute", on_execute)
            del app._display
        assert "count" in happened
        first_count = happened.index("count")
        assert "rows drawn" in happened[:first_count], happened
        assert "of 701 entries match 'blue'" in screen_text(app)


async def test_a_filter_keystroke_shows_its_echo_with_its_rows_and_waits_briefly(store, owner):
    """A filter keystroke's echo waits for its answer (tui.reading.started_now):
    the first frame after the key shows the typed text and the rows it matches
    together. An answer that does not come (a read held here, a condition the
    test controls) holds the screen no longer than ``HOLD_S``: the echo is
    drawn while the read still waits, and the rows follow."""
    from tui.textual_compat import updates_held

    from ..ui import hold_reads, wait_until

    bulk_insert(store, owner.account_id, 50)
    app = IntegrationsAdmin(store, owner)
    together = store.together
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.press("a")
        await settle(pilot)
        frames: list[str] = []
        display = app._display

        def drawn(screen, update) -> None:
            if update is not None:
                frames.append(screen_text(app))
            display(screen, update)

        app._display = drawn  # type: ignore[method-assign]
        try:
            await pilot.press("slash")
            frames.clear()
            await pilot.press("b")
            await settle(pilot)
            first = next(f for f in frames if "b" in f.splitlines()[2])  # the filter box
            assert "match 'b'" in first, first  # the echo came with the rows
            assert not updates_held(app)

            release = hold_reads(store)
            frames.clear()
            await pilot.press("l")
            await wait_until(pilot, lambda: not updates_held(app))  # HOLD_S, then the echo
            assert any("bl" in f.splitlines()[2] for f in frames)
            assert "match 'bl'" not in screen_text(app)  # the read still waits
            release.set()
            await settle(pilot)
            assert "match 'bl'" in screen_text(app)
        finally:
            del app._display
            store.together = together  # type: ignore[method-assign]
