"""The plan on screen: a suspended integration says so where it applies and its
changes are refused before any form opens; the header follows the plan and
keeps what matters at 80 columns."""

from __future__ import annotations

from store import accounts, blueprints, marketplace, users
from store.catalog import CUSTOM_KEY
from tui.app import IntegrationsAdmin, fit_sub_title
from tui.dialogs.form import FormDialog

from ..ui import flat, notes, screen_text

SUSPENDED = (
    "Custom integration is suspended: it needs the Business plan or higher and this "
    "account is on Free."
)


def _set_plan(store, account_id: int, plan: str) -> None:
    accounts.set_plan_and_limits(store, account_id, operator="operator:test", plan=plan)


async def test_suspended_integration_is_said_and_n_refused_at_once(store, owner):
    custom = marketplace.enable(store, owner, CUSTOM_KEY)
    blueprints.create(store, owner, custom, name="Orders")
    _set_plan(store, owner.account_id, "Free")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        assert "Suspended: needs Business" in screen_text(app)  # the Integrations list
        await pilot.press("enter")
        await pilot.pause()
        assert SUSPENDED in flat(app)  # the banner of the integration's page
        assert "Suspended: needs Business" in screen_text(app)  # its Details
        await pilot.press("2")
        await pilot.pause()
        assert SUSPENDED in flat(app)  # on every tab
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
        assert notes(app)[-1].startswith(SUSPENDED)
        await pilot.press("3", "n")  # API tokens
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
        await pilot.press("4", "n")  # Webhooks
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
        assert notes(app)[-1].startswith(SUSPENDED)
        # The blueprint's own page refuses a new field at once too.
        await pilot.press("2", "enter")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
        assert notes(app)[-1].startswith(SUSPENDED)
    assert [b.name for b in blueprints.for_integration(store, owner.account_id, custom)] == [
        "Orders"
    ]


async def test_after_an_upgrade_the_page_is_as_before(store, owner):
    marketplace.enable(store, owner, CUSTOM_KEY)
    _set_plan(store, owner.account_id, "Free")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert SUSPENDED in flat(app)
        _set_plan(store, owner.account_id, "Business")
        await pilot.press("2", "n")
        await pilot.pause()
        # The store decides: the form opens again (the stale banner is no refusal).
        assert isinstance(app.screen, FormDialog)
        await pilot.press("escape")
        await pilot.press("i")  # back to the Integrations list
        await pilot.pause()
        assert "Suspended" not in screen_text(app)


async def test_header_follows_the_plan(store, owner):
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "· Business ·" in app.sub_title
        _set_plan(store, owner.account_id, "Essentials")
        await pilot.press("m")  # another section
        await pilot.pause()
        assert "· Essentials ·" in app.sub_title
        assert "· Essentials ·" in screen_text(app).splitlines()[0]
        _set_plan(store, owner.account_id, "Free")
        await pilot.press("i", "o")  # the Account view
        await pilot.pause()
        assert "· Free ·" in app.sub_title


async def test_header_at_80_columns_keeps_name_plan_login_and_role(store, owner):
    with store.write(owner.account_id) as s:
        from store.models import Account

        a = s.get(Account, owner.account_id)
        a.name = "Northwind Traders International Holdings"
        s.add(a)
    users.add(store, owner, "sara", name="Sara Reader")
    sara = accounts.sign_in(store, "sara")
    app = IntegrationsAdmin(store, sara)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        top = screen_text(app).splitlines()[0]
        assert "Northwind" in top and "…" in top
        assert top.rstrip().endswith("· Business · sara (member, ro)")
        await pilot.resize_terminal(120, 24)
        await pilot.pause()
        top = screen_text(app).splitlines()[0]
        assert "Northwind Traders International Holdings · Business · sara (member, read-only)" in (
            top
        )


def test_fit_sub_title_shortens_in_order():
    args = ("integrations-admin", "Northwind Traders", "Business", "maria", "owner")
    assert fit_sub_title(*args, False, 120) == "Northwind Traders · Business · maria (owner)"
    assert fit_sub_title(*args, False, 80) == "Northwind Tra… · Business · maria (owner)"
    short = ("integrations-admin", "Acme", "Free", "sara", "member")
    assert fit_sub_title(*short, True, 80) == "Acme · Free · sara (member, read-only)"
    assert fit_sub_title(*short, True, 75) == "Acme · Free · sara (member, ro)"
    # Never shorter than a few characters of the name; the header cuts the rest.
    assert fit_sub_title(*args, False, 40).startswith("Northwi…")


async def test_playbook_page_on_free_refuses_new_data_fields_at_once(store, owner):
    from store import playbooks

    pb = playbooks.create(store, owner, name="Sales")
    _set_plan(store, owner.account_id, "Free")
    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("p", "enter")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, FormDialog)
        assert notes(app)[-1].startswith(
            "You cannot add data fields: playbooks need the Essentials plan or higher; "
            "this account is on Free."
        )
    assert playbooks.detail(store, owner.account_id, pb.id).data_fields == ()
