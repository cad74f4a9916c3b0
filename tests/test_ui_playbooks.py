"""The Playbooks section by keys: list, playbook page and its three tabs.

Each test drives the real App with Pilot, presses the keymap's keys and checks
both the screen and the store.
"""

from __future__ import annotations

from store import accounts, blueprints, marketplace, playbooks
from store.catalog import CUSTOM_KEY
from tui.app import IntegrationsAdmin
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.form import FormDialog
from tui.dialogs.picker import PickerDialog
from tui.screens.playbook import DataFieldsTab, MappingsTab, PlaybookScreen
from tui.screens.playbook.tab import PlaybookTab
from tui.screens.playbooks import PlaybooksScreen
from tui.widgets.filter_table import FilterTable
from tui.widgets.tabs import TabBar, TabbedPanes

from .test_store_playbooks import bulk_blueprint
from .ui import flat, screen_text, type_text


def order_blueprint(store, owner, fields=(("Order number", True), ("Note", False))) -> int:
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    bp = blueprints.create(store, owner, iid, name="Order data")
    for name, req in fields:
        blueprints.add_field(store, owner, bp.id, name=name, mapping_required=req)
    return bp.id


def confirmation(app) -> str:
    """The open confirmation's title and message (a dialog's border splits wrapped lines)."""
    dialog = app.screen
    assert isinstance(dialog, ConfirmDialog)
    return f"{dialog._title}\n{dialog._message}"


async def without_toasts(pilot) -> str:
    """The screen once the notifications are dismissed (they cover the right of the tables)."""
    pilot.app.clear_notifications()
    await pilot.pause()
    return screen_text(pilot.app)


def only_playbook(store, owner) -> playbooks.PlaybookDetail:
    [pb] = playbooks.all_for_account(store, owner.account_id)
    return playbooks.detail(store, owner.account_id, pb.id)


async def test_playbook_from_nothing_to_complete_by_keys(store, owner):
    bp_id = order_blueprint(store, owner)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, PlaybooksScreen)
        assert "No playbooks yet" in flat(app)
        # n: a new playbook; the list shows it, selected.
        await pilot.press("n")
        assert isinstance(app.screen, FormDialog)
        await type_text(pilot, "Sales agreement")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, PlaybooksScreen)
        shot = screen_text(app)
        assert "Sales agreement" in shot and "0/300" in shot and "0/5" in shot
        assert "Playbooks 1/100" in shot
        # enter opens it; n adds two data fields.
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PlaybookScreen)
        assert "Playbooks › Sales agreement" in screen_text(app)
        for name in ("Order reference", "Customer"):
            await pilot.press("n")
            await type_text(pilot, name)
            await pilot.press("tab", "tab")
            await type_text(pilot, "none")
            await pilot.press("ctrl+s")
            await pilot.pause()
        d = only_playbook(store, owner)
        assert [(f.name, f.default_value) for f in d.data_fields] == [
            ("Order reference", "none"),
            ("Customer", "none"),
        ]
        assert "Data fields 2/300" in screen_text(app)
        # 2, n: connect the blueprint from the picker.
        await pilot.press("2", "n")
        await pilot.pause()
        assert isinstance(app.screen, PickerDialog)
        assert "Order data" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert [c.blueprint_id for c in only_playbook(store, owner).connections] == [bp_id]
        assert "Incomplete: 1 required field not mapped: Order data / Order number" in flat(app)
        assert "1 missing" in await without_toasts(pilot)
        # 3: the mappings; the required field stands out as missing.
        await pilot.press("3")
        shot = await without_toasts(pilot)
        assert "Order number" in shot and "missing (required)" in shot
        # enter on it: pick the data field from a filtered list.
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PickerDialog)
        assert "Map Order data / Order number to a data field (required)" in flat(app)
        await type_text(pilot, "order ref")  # typing filters at once
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PlaybookScreen)
        d = only_playbook(store, owner)
        assert d.complete
        [row] = [r for r in d.mappings if r.field_name == "Order number"]
        assert row.data_field_name == "Order reference"
        assert "Complete: every required blueprint field is mapped." in flat(app)
        assert "missing (required)" not in await without_toasts(pilot)
        # Back to the list: the playbook is complete there too.
        await pilot.press("escape")
        shot = await without_toasts(pilot)
        assert isinstance(app.screen, PlaybooksScreen)
        assert "2/300" in shot and "1/5" in shot and "complete" in shot


async def test_clearing_a_mapping_makes_it_incomplete(store, owner):
    bp_id = order_blueprint(store, owner)
    pb = playbooks.create(store, owner, name="P")
    df = playbooks.add_data_field(store, owner, pb.id, name="Ref")
    playbooks.connect(store, owner, pb.id, bp_id)
    field = blueprints.detail(store, owner.account_id, bp_id).fields[0]
    playbooks.set_mapping(store, owner, pb.id, field.id, df.id)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("p", "enter", "3", "enter")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, PickerDialog)
        assert picker.query_one(FilterTable).selected_key == str(df.id)  # the current one
        await pilot.press("up", "enter")  # "(none: not mapped)"
        await pilot.pause()
        assert not playbooks.completeness(store, owner.account_id, pb.id).complete
        assert "Incomplete: 1 required field not mapped: Order data / Order number" in flat(app)


async def test_a_data_field_takes_one_field_per_blueprint_by_keys(store, owner):
    bp_id = order_blueprint(store, owner, (("Order number", True), ("Order id", False)))
    pb = playbooks.create(store, owner, name="P")
    df = playbooks.add_data_field(store, owner, pb.id, name="Ref")
    playbooks.connect(store, owner, pb.id, bp_id)
    fields = blueprints.detail(store, owner.account_id, bp_id).fields
    playbooks.set_mapping(store, owner, pb.id, fields[0].id, df.id)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("p", "enter", "3", "down", "enter")
        await pilot.pause()
        assert "has Order data / Order number" in flat(app)  # the picker says so
        await pilot.press("down", "enter")
        await pilot.pause()
        assert "already receives 'Order number' from 'Order data'" in flat(app)
    d = playbooks.detail(store, owner.account_id, pb.id)
    assert [(r.field_name, r.data_field_name) for r in d.mappings] == [
        ("Order number", "Ref"),
        ("Order id", None),
    ]


async def test_create_data_fields_from_blueprint_by_keys(store, owner):
    bp_id = order_blueprint(
        store, owner, (("Order number", True), ("Customer", True), ("Total", False))
    )
    pb = playbooks.create(store, owner, name="P")
    playbooks.add_data_field(store, owner, pb.id, name="customer")
    playbooks.connect(store, owner, pb.id, bp_id)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("p", "enter")
        await pilot.pause()
        assert "f From blueprint" in screen_text(app)  # the footer shows the key
        await pilot.press("f")
        await pilot.pause()
        text = confirmation(app)
        assert "Create data fields from Order data?" in text and "Order data?" in flat(app)
        assert "Creates 2 data fields and maps them: Order number, Total." in text
        assert "Maps to the existing data field of the same name: Customer." in text
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, PlaybookScreen)
        assert "From 'Order data': 2 data fields created and mapped; 1 mapped to existing" in (
            flat(app)
        )
        shot = await without_toasts(pilot)
        assert "Order data / Order number" in shot and "Order data / Customer" in shot
        assert "Data fields 3/300" in shot and "Complete" in shot
    d = playbooks.detail(store, owner.account_id, pb.id)
    assert [f.name for f in d.data_fields] == ["customer", "Order number", "Total"]
    assert d.complete and all(r.data_field_id for r in d.mappings)


async def test_create_from_blueprint_picks_the_blueprint_and_names_the_limit(store, owner):
    bp_id = order_blueprint(store, owner, (("A", True), ("B", False), ("C", False)))
    marketplace.enable(store, owner, "slack")
    slack = next(b for b in blueprints.all_for_account(store, owner.account_id) if b.native)
    pb = playbooks.create(store, owner, name="P")
    playbooks.connect(store, owner, pb.id, bp_id)
    playbooks.connect(store, owner, pb.id, slack.id)
    accounts.set_plan_and_limits(store, owner.account_id, operator="op", limits={"data_fields": 2})
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("p", "enter", "f")
        await pilot.pause()
        assert isinstance(app.screen, PickerDialog)
        assert "Create data fields from which blueprint?" in flat(app)
        await type_text(pilot, "/Order")
        await pilot.press("enter", "enter")
        await pilot.pause()
        # Three would be created, the limit is 2: refused before asking, naming it.
        assert not isinstance(app.screen, ConfirmDialog)
        assert "would pass the limit of 2 data fields" in flat(app)
        assert "1 would not fit" in flat(app)
    assert playbooks.detail(store, owner.account_id, pb.id).data_fields == ()


async def test_disconnect_confirms_naming_the_mappings(store, owner):
    bp_id = order_blueprint(store, owner)
    pb = playbooks.create(store, owner, name="P")
    playbooks.connect(store, owner, pb.id, bp_id)
    playbooks.create_data_fields_from_blueprint(store, owner, pb.id, bp_id)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("p", "enter", "2", "d")
        await pilot.pause()
        text = confirmation(app)
        assert "Disconnect Order data and remove 2 mappings?" in text
        assert "2 mappings from 'Order data' to this playbook's data fields will be removed" in (
            text
        )
        await pilot.press("n")
        await pilot.pause()
        assert len(playbooks.detail(store, owner.account_id, pb.id).connections) == 1
        await pilot.press("d", "y")
        await pilot.pause()
        assert "disconnected; 2 mappings removed" in flat(app)
    d = playbooks.detail(store, owner.account_id, pb.id)
    assert d.connections == () and d.mappings == () and len(d.data_fields) == 2


async def test_delete_data_field_and_playbook_after_confirmation(store, owner):
    bp_id = order_blueprint(store, owner)
    pb = playbooks.create(store, owner, name="Doomed")
    playbooks.connect(store, owner, pb.id, bp_id)
    playbooks.create_data_fields_from_blueprint(store, owner, pb.id, bp_id)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("p", "enter", "d")
        await pilot.pause()
        assert "'Order number' will be deleted with its 1 mapping (Order data / Order number)" in (
            confirmation(app)
        )
        await pilot.press("y")
        await pilot.pause()
        assert [f.name for f in playbooks.detail(store, owner.account_id, pb.id).data_fields] == [
            "Note"
        ]
        assert "Incomplete: 1 required field not mapped" in flat(app)
        await pilot.press("escape", "d")
        await pilot.pause()
        assert "Delete the playbook Doomed?" in confirmation(app)
        await pilot.press("y")
        await pilot.pause()
        assert "No playbooks yet" in flat(app)
    assert playbooks.all_for_account(store, owner.account_id) == []
    # The blueprint stays and can now be deleted.
    blueprints.delete(store, owner, bp_id)


async def test_form_errors_and_limits_are_named(store, owner):
    pb = playbooks.create(store, owner, name="Taken")
    playbooks.add_data_field(store, owner, pb.id, name="One")
    accounts.set_plan_and_limits(store, owner.account_id, operator="op", limits={"data_fields": 1})
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("p", "n")
        await type_text(pilot, "taken")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        assert "A playbook named 'taken' already exists." in flat(app)
        await pilot.press("escape", "enter", "n")
        await pilot.pause()
        # The limit is said at once, before any typing (the form does not open).
        assert not isinstance(app.screen, FormDialog)
        assert "'Taken' already has 1 of 1 data fields" in flat(app)
    assert len(playbooks.all_for_account(store, owner.account_id)) == 1


async def test_list_filter_and_free_plan(store, owner):
    for name in ("Sales agreement", "NDA", "Service level"):
        playbooks.create(store, owner, name=name)
    accounts.set_plan_and_limits(store, owner.account_id, operator="op", plan="Free")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("p")
        await pilot.pause()
        assert "Playbooks need the Essentials plan or higher; this account is on Free" in flat(app)
        await pilot.press("slash")
        await type_text(pilot, "s")
        await pilot.pause()
        table = app.screen.query_one(FilterTable)
        assert table.row_count == 2
        await type_text(pilot, "al")
        await pilot.press("enter")
        await pilot.pause()
        assert table.row_count == 1 and "NDA" not in await without_toasts(pilot)
        # Refused at once, with the store's words: no form to type into first.
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
        assert "You cannot create playbooks: playbooks need the Essentials plan" in flat(app)
        await pilot.press("e")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
        assert "You cannot change playbooks: playbooks need the Essentials plan" in flat(app)
    assert len(playbooks.all_for_account(store, owner.account_id)) == 3


async def test_member_is_read_only(store, owner, member):
    pb = playbooks.create(store, owner, name="P")
    app = IntegrationsAdmin(store, member)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("p", "n")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
        assert "Manage add-ons and integrations" in flat(app)
        await pilot.press("enter", "n")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
        await pilot.press("2", "n")
        await pilot.pause()
        assert not isinstance(app.screen, PickerDialog)
    assert playbooks.detail(store, owner.account_id, pb.id).data_fields == ()


async def test_blueprint_page_lists_connected_playbooks(store, owner):
    bp_id = order_blueprint(store, owner)
    for name in ("Sales agreement", "NDA"):
        pb = playbooks.create(store, owner, name=name)
        playbooks.connect(store, owner, pb.id, bp_id)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("enter", "2", "enter", "2")
        await pilot.pause()
        shot = screen_text(app)
        assert "Connected to 2 playbooks" in flat(app)
        assert "NDA" in shot and "Sales agreement" in shot


async def test_largest_playbook_fills_and_filters(store, owner):
    """300 data fields and 5 blueprints of 60 fields: every row is in the
    tables, and filtering narrows them (no timing asserted here)."""
    pb = playbooks.create(store, owner, name="Big")
    for i in range(5):
        bp = bulk_blueprint(store, owner, f"Blueprint {i}", 60, f"B{i} field")
        playbooks.connect(store, owner, pb.id, bp)
        playbooks.create_data_fields_from_blueprint(store, owner, pb.id, bp)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("p", "enter")
        await pilot.pause()
        page = app.screen
        assert isinstance(page, PlaybookScreen)
        assert "Data fields 300/300 · Connected blueprints 5/5" in screen_text(app)
        assert page.query_one("#data-fields-table", FilterTable).row_count == 300
        await pilot.press("3")
        await pilot.pause()
        mappings = page.query_one(MappingsTab).query_one(FilterTable)
        assert mappings.row_count == 300
        await pilot.press("slash")
        await type_text(pilot, "b3 field 4")
        await pilot.pause()
        assert mappings.row_count == 10  # B3 field 40..49
        await pilot.press("enter", "enter")
        await pilot.pause()
        assert isinstance(app.screen, PickerDialog)
        assert app.screen.query_one(FilterTable).row_count == 301  # (none) + 300
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("2", "n")
        await pilot.pause()
        assert not isinstance(app.screen, PickerDialog)
        assert "'Big' already has 5 of 5 connected blueprints" in flat(app)


async def test_rename_playbook_by_keys(store, owner):
    pb = playbooks.create(store, owner, name="Draft", description="kept")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("p", "e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormDialog)
        assert form.values() == {"name": "Draft", "description": "kept"}
        await pilot.press("end", "ctrl+u")
        await type_text(pilot, "Sales agreement")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, PlaybooksScreen)
        assert "Sales agreement" in await without_toasts(pilot)
    info = playbooks.get(store, owner.account_id, pb.id)
    assert (info.name, info.description, info.version) == ("Sales agreement", "kept", 2)


async def test_a_tab_is_built_when_first_shown_by_key_click_or_code(store, owner, monkeypatch):
    """One way to build a tab: the page shows only its first tab's table; any
    other is built the first time it is shown (a key, a click on its title, enter
    on a connection, creating data fields from a blueprint) and filled from what
    the page loaded, without a second read of the store."""
    bp_id = order_blueprint(store, owner)
    pb = playbooks.create(store, owner, name="P")
    playbooks.add_data_field(store, owner, pb.id, name="Ref")
    playbooks.connect(store, owner, pb.id, bp_id)
    reads = []
    detail = playbooks.detail
    monkeypatch.setattr(playbooks, "detail", lambda *a, **kw: reads.append(1) or detail(*a, **kw))
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.press("p", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PlaybookScreen)

        def built() -> list[str]:
            return [type(t).__name__ for t in screen.query(PlaybookTab)]

        assert built() == ["DataFieldsTab"] and len(reads) == 1
        # A key: built and filled from the page's playbook, no read again.
        await pilot.press("2")
        await pilot.pause()
        assert built() == ["DataFieldsTab", "ConnectionsTab"] and len(reads) == 1
        assert "Order data" in screen_text(app) and "1 missing" in screen_text(app)
        # Back to a tab already built: read again (someone may have changed it).
        await pilot.press("1")
        await pilot.pause()
        assert len(reads) == 2
        # A click on a title: built and filled.
        span = screen.query_one(TabBar).span("mappings")
        await pilot.click(TabBar, offset=(span.start + 2, 0))
        await pilot.pause()
        assert screen.query_one(TabbedPanes).active == "mappings"
        assert built() == ["DataFieldsTab", "ConnectionsTab", "MappingsTab"]
        assert "Order number" in screen_text(app) and len(reads) == 2
        assert screen.query_one(MappingsTab).query_one(FilterTable).row_count == 2
    # Opened on its Connected blueprints tab: enter builds Mappings on the
    # blueprint's first field; creating data fields builds Data fields on them.
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause()
        app.switch_mode("playbooks")
        await pilot.pause()
        await app.push_screen(PlaybookScreen(pb.id, tab="connections"))
        await pilot.pause()
        screen = app.screen
        assert [type(t).__name__ for t in screen.query(PlaybookTab)] == ["ConnectionsTab"]
        await pilot.press("enter")
        await pilot.pause()
        mappings = screen.query_one(MappingsTab)
        assert screen.query_one(TabbedPanes).active == "mappings"
        assert mappings.query_one(FilterTable).selected_item.field_name == "Order number"
        assert mappings.query_one(FilterTable).has_focus_within
        await pilot.press("f", "y")
        await pilot.pause()
        assert screen.query_one(TabbedPanes).active == "data-fields"
        table = screen.query_one(DataFieldsTab).query_one(FilterTable)
        assert table.row_count == 3 and table.selected_item.name == "Order number"
        assert table.has_focus_within
