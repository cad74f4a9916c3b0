"""The Contracts section by keys (Pilot, on SQLite and PostgreSQL): the list and
a contract's page show what the store holds, literally (markup in a name or a
value is text); `/` filters; `enter` shows a value whole; nothing is editable;
the section's key `C` clashes with no other key and is in the help and the
palette; with no contracts, the section says how they arrive."""

from __future__ import annotations

import pytest
from textual.command import CommandPalette
from textual.widgets import OptionList

from store import audit, contracts, marketplace
from store.catalog import CUSTOM_KEY
from tui import keys
from tui.app import IntegrationsAdmin
from tui.screens.base import BaseScreen
from tui.screens.contracts import ContractScreen, ContractsScreen, ContractValueScreen
from tui.screens.help import HelpScreen
from tui.screens.integration import IntegrationScreen
from tui.textual_compat import bindings_of
from tui.widgets.filter_table import FilterTable

from .. import contracts_world
from ..ui import flat, screen_text, type_text, wait_until

MARKUP_NAME = "[bold]Deal[/] #1"
MARKUP_VALUE = "[red]100[/red] [link=http://x]y[/link]"


@pytest.fixture
def world(store, owner) -> contracts_world.World:
    return contracts_world.build(store, owner)


def make(store, world, name: str, values: dict[str, str], *, state: str = "draft") -> int:
    caller = world.caller(store)
    cid = contracts.create(
        store, caller, playbook_id=world.playbook_id, name=name, values=values
    ).contract.id
    if state in ("published", "signed", "declined"):
        contracts.publish(store, caller, cid)
    if state == "signed":
        contracts.sign(store, caller, cid)
    if state == "declined":
        contracts.decline(store, caller, cid)
    return cid


def table(app) -> FilterTable:
    return app.screen.query_one(FilterTable)


async def open_contracts(pilot, app) -> None:
    await pilot.press("C")
    await wait_until(pilot, lambda: isinstance(app.screen, ContractsScreen))
    await pilot.pause()


POLL_TRIES = 500  # 10 s of 20 ms pauses: a loaded machine may take several polls


# -- the list and the page show the store, literally ----------------------------------


async def test_empty_section_says_how_contracts_arrive(store, owner):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_contracts(pilot, app)
        text = flat(app)
        assert "No contracts yet." in text
        assert "integration API" in text and "POST /v1/contracts" in text
        assert "integrations-admin serve" in text
        assert "Integration API" in text and "README" in text
        assert "read-only" in text


async def test_list_and_page_show_what_the_store_holds(store, owner, world):
    cid = make(
        store,
        world,
        MARKUP_NAME,
        {"Amount": MARKUP_VALUE, "Customer": "Acme\nAB"},
        state="signed",
    )
    make(store, world, "Order 2", {"Amount": "7"}, state="published")
    stored = contracts.detail(store, owner.account_id, cid)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_contracts(pilot, app)
        shown = screen_text(app)
        assert "2 contracts, newest first" in shown
        lines = [line for line in shown.splitlines() if MARKUP_NAME in line]
        assert len(lines) == 1  # the name as typed: markup is text
        assert "signed" in lines[0] and "Sales" in lines[0] and "Custom integration" in lines[0]
        (other,) = [line for line in shown.splitlines() if "Order 2" in line]
        assert "published" in other
        # Newest first: Order 2 above the first contract.
        assert shown.index("Order 2") < shown.index(MARKUP_NAME)

        await pilot.press("j", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ContractScreen))
        page = screen_text(app)
        assert f"Contracts › {MARKUP_NAME}" in page
        assert "signed" in page and "Sales" in page
        assert stored.contract.created_by in flat(app)  # "API token iadm_… (Custom integration)"
        for v in stored.values:
            (line,) = [row for row in page.splitlines() if row.startswith(f" {v.name} ")]
            if v.is_default:
                assert line.rstrip().endswith("default")
            else:  # narrow: the source without the integration (the page's head says it)
                assert v.source == f"Custom integration / {line.rstrip().split('  ')[-1].strip()}"
        rows = {line.split("  ")[0].strip(): line for line in page.splitlines()}
        assert MARKUP_VALUE in rows["Amount"]
        assert "Acme ⏎ AB" in rows["Customer name"]  # a line break, shown on one line
        assert "EUR" in rows["Currency"]  # the data field's default
        assert "Orders / Amount" in rows["Amount"]

        # enter on a value: the value whole, literally, with its source.
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ContractValueScreen))
        whole = screen_text(app)
        assert "Value of Amount" in whole
        assert MARKUP_VALUE in whole
        assert "Custom integration / Orders / Amount" in whole
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ContractScreen))


async def test_a_long_value_is_shortened_in_the_table_and_whole_on_its_own(store, owner, world):
    long = "x" * 9_990 + "THE END"
    make(store, world, "Long", {"Amount": long})
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_contracts(pilot, app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ContractScreen))
        (row,) = [line for line in screen_text(app).splitlines() if line.startswith(" Amount ")]
        assert "…" in row and "Orders / Amount" in row  # the source stays in view
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ContractValueScreen))
        # The whole value is in the dialog, folded over its lines (it scrolls).
        body = app.screen.query_one("#value-body")
        await pilot.pause()
        assert body.virtual_size.height > 9_990 // 80


async def test_the_source_of_a_default_and_the_wide_page(store, owner, world):
    cid = make(store, world, "Wide", {"Amount": "12", "Customer": "Acme"})
    stored = contracts.detail(store, owner.account_id, cid)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_contracts(pilot, app)
        assert "Updated (UTC)" in screen_text(app)  # the wide list's extra column
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ContractScreen))
        page = screen_text(app)
        for v in stored.values:
            assert v.source in page  # wide: the source whole
        (currency,) = [line for line in page.splitlines() if line.startswith(" Currency ")]
        assert "EUR" in currency and currency.rstrip().endswith("default")


# -- filter ---------------------------------------------------------------------------


async def test_filter_narrows_the_list_in_sql_and_escape_restores_it(store, owner, world):
    make(store, world, "North order", {"Amount": "1"})
    make(store, world, "South order", {"Amount": "2"}, state="signed")
    make(store, world, MARKUP_NAME, {"Amount": "3"}, state="declined")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_contracts(pilot, app)
        assert table(app).row_count == 3
        await pilot.press("slash")
        await type_text(pilot, "north")
        await wait_until(pilot, lambda: table(app).row_count == 1)
        assert "North order" in screen_text(app) and "South order" not in screen_text(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: table(app).row_count == 3)

        # By state, and by markup typed literally.
        await pilot.press("slash")
        await type_text(pilot, "signed")
        await wait_until(pilot, lambda: table(app).row_count == 1)
        assert "South order" in screen_text(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: table(app).row_count == 3)
        await pilot.press("slash")
        await type_text(pilot, "[bold]")
        await wait_until(pilot, lambda: table(app).row_count == 1)
        assert MARKUP_NAME in screen_text(app)
        await pilot.press("enter")  # to the list
        await pilot.press("enter")  # opens the match
        await wait_until(pilot, lambda: isinstance(app.screen, ContractScreen))
        assert f"Contracts › {MARKUP_NAME}" in screen_text(app)

        # The page's data fields filter too.
        await pilot.press("slash")
        await type_text(pilot, "curr")
        await pilot.pause()
        assert table(app).row_count == 1 and "Currency" in screen_text(app)
        await type_text(pilot, "zzz")
        await pilot.pause()
        assert "No match for 'currzzz'." in screen_text(app)


# -- read-only ---------------------------------------------------------------------------


WRITE_KEYS = (
    "n",
    "e",
    "d",
    "t",
    "r",
    "s",
    "f",
    "w",
    "c",
    "x",
    "y",
    "space",
    "delete",
    "backspace",
    "ctrl+s",
    "ctrl+t",
    "ctrl+g",
)


async def test_nothing_is_editable(store, owner, world):
    cid = make(store, world, "Keep me", {"Amount": "5", "Customer": "Acme"}, state="published")
    before = contracts.detail(store, owner.account_id, cid)
    audited = audit.count(store, owner.account_id)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_contracts(pilot, app)
        for key in WRITE_KEYS:
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, ContractsScreen), key  # no form, no confirmation
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ContractScreen))
        for key in WRITE_KEYS:
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, ContractScreen), key
        # The screens bind no key of their own: only moving, filtering, back.
        inherited = {b.id for b in bindings_of(BaseScreen)}
        for screen_class in (ContractsScreen, ContractScreen):
            assert {b.id for b in bindings_of(screen_class)} == inherited, screen_class
    assert contracts.detail(store, owner.account_id, cid) == before
    assert audit.count(store, owner.account_id) == audited


# -- the key, the help, the palette ------------------------------------------------------


def test_the_contracts_key_clashes_with_no_other_key():
    keys.all_binding_ids()  # imports every screen, dialog and widget
    from textual.dom import DOMNode

    holders: list[str] = []
    todo: list[type] = [DOMNode]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        for b in bindings_of(cls):
            if "C" in [k.strip() for k in b.key.split(",")] and cls.__module__.startswith("tui"):
                holders.append(f"{cls.__name__}:{b.id}")
    assert sorted(set(holders)) == ["IntegrationsAdmin:go.contracts"]


async def test_the_contracts_key_works_from_every_section_and_page(store, owner, world):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        for where in ("m", "i", "p", "a", "o", "u"):
            await pilot.press(where)
            await pilot.pause()
            await open_contracts(pilot, app)
        # From an integration's page (its tabs bind letters of their own).
        for tab in ("1", "2", "3", "4", "5"):
            await pilot.press("i")
            await pilot.pause()
            if not isinstance(app.screen, IntegrationScreen):
                await pilot.press("enter")  # the Custom integration, the only one
                await wait_until(pilot, lambda: isinstance(app.screen, IntegrationScreen))
            await pilot.press(tab)
            await pilot.pause()
            await open_contracts(pilot, app)


async def test_help_and_palette_offer_contracts(store, owner):
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = screen_text(app)
        (line,) = [row for row in text.splitlines() if "Contracts" in row]
        assert " C " in line and "read-only" in line
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await type_text(pilot, "contracts")

        def titles() -> list[str]:
            options = app.screen.query_one(OptionList)
            return [
                str(options.get_option_at_index(i).prompt).splitlines()[0]
                for i in range(options.option_count)
            ]

        await wait_until(pilot, lambda: "Go to Contracts" in titles())
        for _ in range(titles().index("Go to Contracts")):
            await pilot.press("down")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ContractsScreen))
        assert app.current_mode == "contracts"


# -- contracts arrive while you look -------------------------------------------------------


async def test_a_contract_that_arrives_shows_without_a_key(store, owner, world, monkeypatch):
    from tui.screens import contracts as screens

    monkeypatch.setattr(screens, "POLL_S", 0.05)
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_contracts(pilot, app)
        assert "No contracts yet." in flat(app)
        cid = make(store, world, "Arrived", {"Amount": "1"})  # the API, meanwhile
        await wait_until(pilot, lambda: "Arrived" in screen_text(app), tries=POLL_TRIES)
        assert "1 contract, newest first" in screen_text(app)
        make(store, world, "Second", {"Amount": "2"})
        await wait_until(
            pilot, lambda: "2 contracts, newest first" in screen_text(app), tries=POLL_TRIES
        )
        await pilot.press("j", "enter")  # "Arrived", below the newer one
        await wait_until(pilot, lambda: isinstance(app.screen, ContractScreen), tries=POLL_TRIES)
        assert "draft" in screen_text(app)
        contracts.publish(store, world.caller(store), cid)
        await wait_until(pilot, lambda: "published" in screen_text(app), tries=POLL_TRIES)
        caller = world.caller(store)
        contracts.update(store, caller, cid, values={"Amount": "99 SEK"})
        await wait_until(pilot, lambda: "99 SEK" in screen_text(app), tries=POLL_TRIES)
