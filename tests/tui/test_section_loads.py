"""The sections and pages that read on the UI thread until issue 15's second
part (Marketplace, Playbooks, Users, Account, Contracts and a contract, a
webhook's page and a delivery's) read nothing there now: every statement is
caught with the thread that sends it (``tests/helpers.statements_by_thread``)
while a person goes through them by keys. On SQLite and PostgreSQL."""

from __future__ import annotations

from store import contracts, webhooks
from tui.app import IntegrationsAdmin

from .. import contracts_world, queue_world
from ..helpers import statements_by_thread
from ..ui import screen_text, settle


async def test_sections_and_pages_read_nothing_on_the_ui_thread(store, owner):
    world = contracts_world.build(store, owner)
    contracts.create(
        store,
        world.caller(store),
        playbook_id=world.playbook_id,
        name="Order 7",
        values={"Amount": "12"},
    )
    hook = webhooks.create(store, owner, world.integration_id, url="https://a.example.com/x")
    queue_world.queued(store, owner.account_id, hook.id, "retrying", attempts=1, last_status=503)
    app = IntegrationsAdmin(store, owner)
    app.CHANGES_POLL_S = 3600  # (it reads in a worker anyway) out of the way
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        with statements_by_thread(store) as seen:
            # Each key, then what its screen shows once its data has arrived.
            for keys, shows in (
                (("m",), "Custom integration"),
                (("p",), "Sales"),
                (("u",), "alice (you)"),
                (("o",), "The plan includes"),
                (("C",), "Order 7"),
                (("enter",), "Contracts › Order 7"),
                (("escape", "i", "enter", "4"), "https://a.example.com/x"),
                (("enter",), "Integrations › Custom integration › Webhook"),
                (("enter",), "503"),
                (("a",), "newest first"),  # its header's title read on the UI thread before
            ):
                await pilot.press(*keys)
                await settle(pilot)
                assert shows in screen_text(app), (keys, screen_text(app))
    assert seen.on_ui == []
    assert seen.elsewhere > 9  # they did read: in workers
