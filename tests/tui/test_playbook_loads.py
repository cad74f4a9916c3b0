"""The playbook page and the blueprint page never read the store on the UI
thread (tui/screens/loading.py): opening them, switching their tabs, coming
back to them, and the reads a key needs before its dialog (tui/reading.py) all
run in workers. Every statement SQLAlchemy sends is caught as it goes
(``before_cursor_execute``) with the thread that sends it; Textual runs its
loop, and so the screens' handlers, on the main thread. On SQLite and
PostgreSQL."""

from __future__ import annotations

from store import blueprints, playbooks
from tui.app import IntegrationsAdmin
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.form import FormDialog
from tui.dialogs.picker import PickerDialog
from tui.screens.blueprint import BlueprintScreen
from tui.screens.playbook import PlaybookScreen
from tui.widgets.tabs import TabbedPanes

from ..helpers import order_blueprint, statements_by_thread
from ..ui import flat, screen_text, settle, type_text


def a_playbook(store, owner) -> tuple[int, int]:
    """A playbook with one data field, connected to "Order data" (three fields,
    two required, one of them mapped); another blueprint, "Extra", is left to
    connect."""
    bp_id = order_blueprint(
        store, owner, (("Order number", True), ("Customer", True), ("Note", False))
    )
    integration = blueprints.detail(store, owner.account_id, bp_id).blueprint.integration_id
    blueprints.create(store, owner, integration, name="Extra")
    pb = playbooks.create(store, owner, name="Sales agreement")
    playbooks.connect(store, owner, pb.id, bp_id)
    df = playbooks.add_data_field(store, owner, pb.id, name="Order number")
    order_number = blueprints.detail(store, owner.account_id, bp_id).fields[0]
    playbooks.set_mapping(store, owner, pb.id, order_number.id, df.id)
    return pb.id, bp_id


async def test_the_playbook_and_blueprint_pages_read_nothing_on_the_ui_thread(store, owner):
    pb_id, bp_id = a_playbook(store, owner)
    app = IntegrationsAdmin(store, owner)
    app.CHANGES_POLL_S = 3600  # (it reads in a worker anyway) out of the way
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        with statements_by_thread(store) as seen:
            await app.push_screen(PlaybookScreen(pb_id))
            await settle(pilot)
            page = app.screen
            assert isinstance(page, PlaybookScreen)
            assert "Playbooks › Sales agreement" in screen_text(app)
            assert "Data fields 1/" in screen_text(app)
            # Each tab: built and shown from the page's playbook, or read again.
            for key, shows in (
                ("2", "1 missing"),
                ("3", "Note"),
                ("1", "Order data / Order number"),
                ("2", "Order data"),
                ("right_square_bracket", "missing (required)"),
            ):
                await pilot.press(key)
                assert shows in screen_text(app), key
            assert page.query_one(TabbedPanes).active == "mappings"

            # The blueprint's page, its tabs, and a playbook opened from it.
            await app.push_screen(BlueprintScreen(bp_id))
            await settle(pilot)
            assert "Integrations › Custom integration › Order data" in screen_text(app)
            assert "Order number" in screen_text(app)
            await pilot.press("2")
            assert "Connected to 1 playbook" in flat(app)
            await pilot.press("enter")
            assert isinstance(app.screen, PlaybookScreen) and app.screen is not page
            assert "Playbooks › Sales agreement" in screen_text(app)
            await pilot.press("1")
            # Back to the pages below: each reads itself again on its return.
            await pilot.press("escape")
            assert isinstance(app.screen, BlueprintScreen)
            assert "Connected to 1 playbook" in flat(app)
            await pilot.press("escape")
            assert app.screen is page
            assert "missing (required)" in screen_text(app)
        assert seen.on_ui == []
        assert seen.elsewhere > 0  # the pages' reads were caught: in workers


async def test_the_reads_a_key_needs_before_its_dialog_run_in_workers(store, owner):
    """Connect (the blueprints left to connect), disconnect (the mappings it
    removes: the page's load counted them), data fields from a blueprint (what
    it would create), a field made required (the playbooks it leaves
    incomplete)."""
    pb_id, bp_id = a_playbook(store, owner)
    app = IntegrationsAdmin(store, owner)
    app.CHANGES_POLL_S = 3600
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        with statements_by_thread(store) as seen:
            await app.push_screen(PlaybookScreen(pb_id, tab="connections"))
            await settle(pilot)
            await pilot.press("n")
            assert isinstance(app.screen, PickerDialog)
            assert "Extra" in screen_text(app)
            await pilot.press("escape")
            await pilot.press("d")
            assert isinstance(app.screen, ConfirmDialog)
            assert app.screen._title == "Disconnect Order data and remove 1 mapping?"
            await pilot.press("n")
            await pilot.press("f")
            assert isinstance(app.screen, ConfirmDialog)
            assert app.screen._title == "Create data fields from Order data?"
            assert "Creates 2 data fields and maps them" in app.screen._message
            await pilot.press("n")
            assert isinstance(app.screen, PlaybookScreen)

            await app.push_screen(BlueprintScreen(bp_id))
            await settle(pilot)
            await pilot.press("n")
            assert isinstance(app.screen, FormDialog)
            await type_text(pilot, "Order id")
            await pilot.press("tab", "tab", "space", "ctrl+s")
            assert isinstance(app.screen, ConfirmDialog)
            assert app.screen._title == "Make Order id required?"
            assert "'Sales agreement'" in app.screen._message
            await pilot.press("n", "escape")
            assert isinstance(app.screen, BlueprintScreen)
        assert seen.on_ui == []
        assert seen.elsewhere > 0
    # Nothing was changed: every dialog was answered no.
    d = playbooks.detail(store, owner.account_id, pb_id)
    assert len(d.connections) == 1 and len(d.data_fields) == 1
    assert [f.name for f in blueprints.detail(store, owner.account_id, bp_id).fields] == [
        "Order number",
        "Customer",
        "Note",
    ]
