"""Pickers, lists and empty states by keys (issue 13: items 8, 10, 12, 16, 17).

Each test drives the real App with Pilot and checks the screen and the store.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input

from store import blueprints, marketplace, playbooks
from store.catalog import CUSTOM_KEY
from tui.app import IntegrationsAdmin
from tui.dialogs.picker import NONE, PickerDialog
from tui.format import plural
from tui.screens.marketplace import MarketplaceScreen
from tui.screens.playbook import PlaybookScreen
from tui.screens.playbooks import PlaybooksScreen
from tui.widgets.filter_table import FilterTable

from ..helpers import order_blueprint
from ..ui import flat, notes, screen_text, type_text, wait_until


def mapping_of(store, owner, pb_id: int, field_name: str) -> str | None:
    d = playbooks.detail(store, owner.account_id, pb_id)
    return next(r.data_field_name for r in d.mappings if r.field_name == field_name)


def picker_choice(app) -> str | None:
    picker = app.screen
    assert isinstance(picker, PickerDialog)
    return picker.query_one(FilterTable).selected_key


# -- item 8: pickers filter as you type and start on the best match ---------------------


async def test_mapping_picker_starts_on_the_data_field_named_like_the_field(store, owner):
    bp_id = order_blueprint(store, owner)
    pb = playbooks.create(store, owner, name="P")
    playbooks.add_data_field(store, owner, pb.id, name="Customer")
    loose = playbooks.add_data_field(store, owner, pb.id, name="order_number")
    playbooks.connect(store, owner, pb.id, bp_id)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p", "enter", "3", "enter")  # the picker of "Order number"
        await pilot.pause()
        # Not "(none: not mapped)": the data field whose name matches, spaces and case aside.
        assert picker_choice(app) == str(loose.id)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PlaybookScreen)
    assert mapping_of(store, owner, pb.id, "Order number") == "order_number"


async def test_exact_name_beats_a_loose_one_and_else_the_first_data_field(store, owner):
    bp_id = order_blueprint(store, owner)
    pb = playbooks.create(store, owner, name="P")
    first = playbooks.add_data_field(store, owner, pb.id, name="Amount")
    playbooks.add_data_field(store, owner, pb.id, name="order_number")
    exact = playbooks.add_data_field(store, owner, pb.id, name="ORDER NUMBER")
    playbooks.connect(store, owner, pb.id, bp_id)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p", "enter", "3", "enter")
        await pilot.pause()
        assert picker_choice(app) == str(exact.id)
        await pilot.press("escape")
        await pilot.pause()
        # "Note" matches no data field: the first data field, not "(none)".
        await pilot.press("down", "enter")
        await pilot.pause()
        assert "Map Order data / Note to a data field" in flat(app)
        assert picker_choice(app) == str(first.id)


async def test_typing_filters_the_picker_at_once(store, owner):
    bp_id = order_blueprint(store, owner)
    pb = playbooks.create(store, owner, name="P")
    for name in ("Customer", "Order reference", "Amount"):
        playbooks.add_data_field(store, owner, pb.id, name=name)
    playbooks.connect(store, owner, pb.id, bp_id)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p", "enter", "3", "enter")
        await pilot.pause()
        table = app.screen.query_one(FilterTable)
        assert table.row_count == 4  # (none) and three data fields
        await type_text(pilot, "amo")  # no `/` first
        await pilot.pause()
        assert table.row_count == 1
        assert "Amount" in screen_text(app) and "Customer" not in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PlaybookScreen)
    assert mapping_of(store, owner, pb.id, "Order number") == "Amount"


async def test_picker_keys_move_and_a_leading_slash_is_not_part_of_the_filter(store, owner):
    bp_id = order_blueprint(store, owner)
    pb = playbooks.create(store, owner, name="P")
    for name in ("Alpha", "Beta", "Gamma"):
        playbooks.add_data_field(store, owner, pb.id, name=name)
    playbooks.connect(store, owner, pb.id, bp_id)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p", "enter", "3", "enter")
        await pilot.pause()
        table = app.screen.query_one(FilterTable)
        assert [table.selected_key] == [table._shown[1].key]  # Alpha, under (none)
        await pilot.press("down", "down")
        assert table._shown[table.table.cursor_row].cells[0] == "Gamma"
        await pilot.press("up")
        assert table._shown[table.table.cursor_row].cells[0] == "Beta"
        await pilot.press("slash", "g", "a")  # `/` out of habit, then "ga"
        await pilot.pause()
        assert table.filter_text == "ga" and table.row_count == 1
        await pilot.press("escape")  # cancels the picker, changes nothing
        await pilot.pause()
        assert isinstance(app.screen, PlaybookScreen)
    assert mapping_of(store, owner, pb.id, "Order number") is None


async def test_mapped_field_starts_on_its_current_data_field(store, owner):
    bp_id = order_blueprint(store, owner)
    pb = playbooks.create(store, owner, name="P")
    playbooks.add_data_field(store, owner, pb.id, name="Order number")
    current = playbooks.add_data_field(store, owner, pb.id, name="Ref")
    playbooks.connect(store, owner, pb.id, bp_id)
    field = blueprints.detail(store, owner.account_id, bp_id).fields[0]
    playbooks.set_mapping(store, owner, pb.id, field.id, current.id)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p", "enter", "3", "enter")
        await pilot.pause()
        assert picker_choice(app) == str(current.id)  # not the name match


async def test_connect_picker_filters_as_you_type(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    for name in ("Invoices", "Orders", "Leads"):
        blueprints.create(store, owner, iid, name=name)
    pb = playbooks.create(store, owner, name="P")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p", "enter", "2", "n")
        await pilot.pause()
        assert picker_choice(app) not in (None, NONE)
        await type_text(pilot, "ord")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PlaybookScreen)
    d = playbooks.detail(store, owner.account_id, pb.id)
    assert [c.blueprint_name for c in d.connections] == ["Orders"]


# -- item 10: `/` on an empty list ----------------------------------------------------------


async def test_slash_on_the_empty_integrations_list_swallows_no_key(store, owner):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        assert "No integrations are enabled yet" in flat(app)
        await pilot.press("slash")
        await pilot.pause()
        assert not isinstance(app.focused, Input)
        assert notes(app)[-1] == "Nothing to filter: this list is empty."
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, MarketplaceScreen)


# -- item 16: the cursor after a delete, home/end/g/G ---------------------------------------


def cursor_name(app) -> str:
    table = app.screen.query_one(FilterTable)
    return str(table._shown[table.table.cursor_row].cells[0])


async def test_after_a_delete_the_cursor_is_on_the_neighbour(store, owner):
    for name in ("Alpha", "Beta", "Gamma", "Delta"):
        playbooks.create(store, owner, name=name)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p")
        await pilot.pause()
        assert cursor_name(app) == "Alpha"
        await pilot.press("down", "d", "y")  # Beta goes: Delta takes its place
        await pilot.pause()
        assert isinstance(app.screen, PlaybooksScreen)
        assert cursor_name(app) == "Delta"
        await pilot.press("down", "d", "y")  # the last one goes: the previous row
        await pilot.pause()
        assert cursor_name(app) == "Delta"
    assert [p.name for p in playbooks.all_for_account(store, owner.account_id)] == [
        "Alpha",
        "Delta",
    ]


async def test_home_end_g_and_shift_g_move_in_lists(store, owner):
    for i in range(1, 8):
        playbooks.create(store, owner, name=f"Playbook {i}")
    app = IntegrationsAdmin(store, owner)
    # Tall enough that help's list section is in view without scrolling.
    async with app.run_test(size=(80, 40)) as pilot:
        await pilot.press("p")
        await pilot.pause()
        await pilot.press("G")
        assert cursor_name(app) == "Playbook 7"
        await pilot.press("g")
        assert cursor_name(app) == "Playbook 1"
        await pilot.press("end")
        assert cursor_name(app) == "Playbook 7"
        await pilot.press("home")
        assert cursor_name(app) == "Playbook 1"
        await pilot.press("question_mark")
        await pilot.pause()
        assert "home end / g G" in screen_text(app)


async def test_g_stays_the_users_view_key_and_home_still_moves(store, owner, member):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("u", "end")
        await pilot.pause()
        assert cursor_name(app) == "bob"
        await pilot.press("g")  # grants, does not move
        await pilot.pause()
        assert notes(app)[-1] == "'Manage add-ons and integrations' granted to bob."
        assert cursor_name(app) == "bob"
        await pilot.press("home")
        assert cursor_name(app).startswith("alice")


# -- item 12: each empty list says its empty state once --------------------------------------


async def test_empty_tokens_and_webhooks_say_so_once(store, owner):
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("i", "enter", "3")
        await pilot.pause()
        text = flat(app)
        assert text.count("No API tokens yet") == 1
        assert "Nothing here yet" not in text
        await pilot.press("4")
        await pilot.pause()
        text = flat(app)
        assert text.count("No webhooks yet") == 1
        assert "timeout 10 s · private networks off (s)" in text
        assert "Nothing here yet" not in text


async def test_empty_playbook_tabs_say_so_once(store, owner):
    playbooks.create(store, owner, name="P")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("p", "enter")
        await pilot.pause()
        text = flat(app)
        assert text.count("No data fields yet") == 1
        assert "Nothing here yet" not in text
        await pilot.press("2")
        await pilot.pause()
        text = flat(app)
        assert text.count("connect one") == 1
        assert "Nothing here yet" not in text
        await pilot.press("3")
        await pilot.pause()
        text = flat(app)
        assert text.count("No blueprint is connected") == 1
        assert "Nothing here yet" not in text


async def test_blueprint_page_without_playbooks_says_so_once(store, owner):
    bp_id = order_blueprint(store, owner)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(120, 36)) as pilot:
        from tui.screens.blueprint import BlueprintScreen

        app.push_screen(BlueprintScreen(bp_id))
        await pilot.pause()
        await pilot.press("2")
        await pilot.pause()
        text = flat(app)
        assert text.count("Not connected to any playbook yet") == 1
        assert "Nothing here yet" not in text


# -- item 16: grammar -------------------------------------------------------------------------


def test_plural_agrees_with_the_count():
    assert [plural(n, "user") for n in (0, 1, 2)] == ["0 users", "1 user", "2 users"]
    assert plural(1, "entry", "entries") == "1 entry"
    assert plural(1200, "entry", "entries") == "1,200 entries"


async def test_one_user_and_one_entry_are_singular(store, owner):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("u")
        await pilot.pause()
        assert "1 user, 1 owner" in flat(app)
        assert "1 users" not in flat(app)
        await pilot.press("a")
        await pilot.pause()
        assert "Audit log · 1 entry, newest first" in flat(app)
        await pilot.press("o")
        await pilot.pause()
        assert "1 user (1 owner, press u)" in flat(app)


# -- item 16: the Integrations list fits 80 columns --------------------------------------------


async def test_integrations_list_shows_every_count_at_80_columns(store, owner):
    marketplace.enable(store, owner, "dynamics365")  # the longest name
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    from store import webhooks

    store_settings_allow_private(store, owner)
    webhooks.create(store, owner, iid, url="http://127.0.0.1:9/hook")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        lines = screen_text(app).splitlines()
        header = next(line for line in lines if "Integration" in line and "Enabled" in line)
        assert header.rstrip().endswith("Webhooks")
        row = next(line for line in lines if "Microsoft Dynamics 365" in line)
        assert "managed" in row.split()  # not cut to "manage"
        custom = next(line for line in lines if "Custom integration" in line)
        assert custom.split()[-1] == "1"  # its webhook
    async with IntegrationsAdmin(store, owner).run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        text = screen_text(pilot.app)
        assert "Category" in text and "Sales and CRM" in text and "Webhooks" in text


def store_settings_allow_private(store, owner) -> None:
    from store import settings

    settings.set_allow_private_webhooks(store, owner, True)


# -- item 16: the delivery breadcrumb ------------------------------------------------------


async def test_delivery_breadcrumb_names_its_parents_and_its_number_in_the_webhook(store, owner):
    from tui.screens.webhook import DeliveryScreen, WebhookScreen

    from ..helpers import log_deliveries, two_webhooks

    first, second = two_webhooks(store, owner)
    log_deliveries(store, owner, first, 5)
    ids = log_deliveries(store, owner, second, 2)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(WebhookScreen(second))
        await pilot.pause()
        await pilot.press("enter")  # the newest: the second delivery of this webhook
        await pilot.pause()
        assert isinstance(app.screen, DeliveryScreen)
        assert ids[1] > 2  # its account-wide id is another number
        title = next(line for line in screen_text(app).splitlines() if "›" in line).strip()
        assert title.startswith("Custom integration › Webhooks › hooks.example.c")
        assert title.endswith("… › Delivery 2 · contract:sign") and len(title) <= 78
    async with IntegrationsAdmin(store, owner).run_test(size=(120, 36)) as pilot:
        pilot.app.push_screen(WebhookScreen(second))
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert (
            "Custom integration › Webhooks › hooks.example.com/second › Delivery 1 · contract:sign"
            in screen_text(pilot.app)
        )


# -- item 16: the presenter overlay leaves dialog buttons visible ----------------------------


async def overlay_and_buttons(app, pilot, message: str):
    from textual.widgets import Button

    from tui.dialogs.confirm import ConfirmDialog
    from tui.widgets.keycaster import KeyCaster

    app.push_screen(ConfirmDialog("Delete it?", message))
    await pilot.pause()
    await pilot.press(*"xzxzxzxzxzxz")  # keys the dialog ignores: a wide overlay
    await pilot.pause()
    await pilot.pause()
    label = app.screen.query_one(KeyCaster).query_one("#keycaster-keys")
    return label.region, [b.region for b in app.screen.query(Button)]


async def test_presenter_overlay_does_not_cover_dialog_buttons(store, owner):
    app = IntegrationsAdmin(store, owner, presenter=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        # A dialog as tall as the screen: its buttons reach the last lines.
        tall = "\n".join(f"line {i}" for i in range(16))
        overlay, buttons = await overlay_and_buttons(app, pilot, tall)
        assert overlay.width > 30 and len(buttons) == 2
        assert buttons[0].bottom >= 23  # the buttons reach the last lines
        assert not any(overlay.overlaps(b) for b in buttons)
        await pilot.press("escape")
        await pilot.pause()
        # A usual dialog: the overlay stays above the footer line, below the dialog's box.
        overlay, buttons = await overlay_and_buttons(app, pilot, "It goes for good.")
        assert overlay.y == 22 and not any(overlay.overlaps(b) for b in buttons)
        await pilot.press("escape")
        await pilot.pause()
        # A screen: above its footer, as before.
        await pilot.press("x")
        await pilot.pause()
        await pilot.pause()
        from tui.widgets.keycaster import KeyCaster

        assert app.screen.query_one(KeyCaster).query_one("#keycaster-keys").region.y == 22


# -- item 17: a blueprint's connected playbooks open with enter --------------------------------


async def test_enter_on_a_connected_playbook_opens_it(store, owner):
    bp_id = order_blueprint(store, owner)
    ids = {}
    for name in ("Sales agreement", "NDA"):
        ids[name] = playbooks.create(store, owner, name=name).id
        playbooks.connect(store, owner, ids[name], bp_id)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter", "2", "enter", "2")  # the blueprint's Connected playbooks
        await pilot.pause()
        assert "Connected to 2 playbooks (enter opens one)" in flat(app)
        await pilot.press("down", "enter")  # NDA, then Sales agreement
        await pilot.pause()
        page = app.screen
        assert isinstance(page, PlaybookScreen) and page.playbook_id == ids["Sales agreement"]
        assert "Playbooks › Sales agreement" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert "Connected to 2 playbooks" in flat(app)  # back on the blueprint's page


# -- item 17: a field becoming required asks first, naming the playbooks ------------------------


async def test_a_required_field_asks_first_naming_the_playbooks_it_leaves_incomplete(store, owner):
    from tui.dialogs.confirm import ConfirmDialog
    from tui.dialogs.form import FormDialog
    from tui.screens.blueprint import BlueprintScreen

    bp_id = order_blueprint(store, owner, (("Note", False),))
    pbs = {n: playbooks.create(store, owner, name=n).id for n in ("Sales agreement", "NDA")}
    for pid in pbs.values():
        playbooks.connect(store, owner, pid, bp_id)
    df = playbooks.add_data_field(store, owner, pbs["NDA"], name="Note")
    note = blueprints.detail(store, owner.account_id, bp_id).fields[0]
    playbooks.set_mapping(store, owner, pbs["NDA"], note.id, df.id)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(BlueprintScreen(bp_id))
        await pilot.pause()
        # A new required field: missing in both playbooks.
        await pilot.press("n")
        await type_text(pilot, "Order id")
        await pilot.press("tab", "tab", "space", "ctrl+s")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert dialog._title == "Make Order id required?"
        assert (
            "not mapped in 2 playbooks connected to this blueprint: 'NDA', 'Sales agreement'"
            in (dialog._message)
        )
        await pilot.press("n")  # no: back to the form, nothing saved
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        assert [f.name for f in blueprints.detail(store, owner.account_id, bp_id).fields] == [
            "Note"
        ]
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, BlueprintScreen)
        fields = blueprints.detail(store, owner.account_id, bp_id).fields
        assert [(f.name, f.mapping_required) for f in fields] == [
            ("Note", False),
            ("Order id", True),
        ]
        # Editing "Note" to required: only where it is not mapped.
        await pilot.press("home", "e", "tab", "tab", "space", "ctrl+s")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert "not mapped in 1 playbook connected to this blueprint: 'Sales agreement'." in (
            dialog._message
        )
        await pilot.press("y")
        await pilot.pause()
        assert blueprints.detail(store, owner.account_id, bp_id).fields[0].mapping_required
        # A field that is required already is saved without asking.
        await pilot.press("e", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, BlueprintScreen)


# -- item 17: a playbook that depends on a disabled integration ----------------------------------


async def test_playbook_of_a_disabled_integration_says_so_and_offers_no_mapping(store, owner):
    from ..helpers import hubspot_playbook

    pb, bp = hubspot_playbook(store, owner)
    marketplace.disable(store, owner, "hubspot")
    before = playbooks.detail(store, owner.account_id, pb).mappings
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await pilot.press("p")
        await pilot.pause()
        row = next(line for line in screen_text(app).splitlines() if "Deals" in line)
        assert "HubSpot disabled" in row and "complete" not in row
        await pilot.press("enter")
        await pilot.pause()
        text = flat(app)
        assert "Depends on HubSpot, which is disabled: its mappings are read-only" in text
        assert "Complete" not in text
        await pilot.press("3")
        await pilot.pause()
        text = flat(app)
        assert "Read-only: Depends on HubSpot" in text and "enter chooses" not in text
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PlaybookScreen)  # no picker
        assert notes(app)[-1] == (
            f"{bp.name!r} belongs to HubSpot, which is disabled: its mappings are read-only "
            "until HubSpot is enabled again in the Marketplace."
        )
    assert playbooks.detail(store, owner.account_id, pb).mappings == before


@pytest.mark.parametrize("section", ["a", "p"])
async def test_keys_typed_in_one_burst_after_slash_land_in_the_filter_box(store, owner, section):
    """Over SSH, or pasted, `/` and the text after it arrive together: Textual
    forwards them all to the list before `/` moves the focus. They must reach
    the box, in order (they were lost: the box stayed empty)."""
    from textual import events

    for i in range(1, 4):
        playbooks.create(store, owner, name=f"Playbook {i}")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(section)
        await pilot.pause()
        for ch in "/Playbook 2":
            key = {"/": "slash", " ": "space"}.get(ch, ch)
            app.post_message(events.Key(key, ch))  # all queued before any is handled
        await wait_until(pilot, lambda: getattr(app.focused, "value", "") == "Playbook 2")
        # The list narrows to what the box holds (the audit log filters in a worker).
        await wait_until(pilot, lambda: "Playbook 3" not in screen_text(app))
        assert "Playbook 2" in screen_text(app)
