"""Names with Rich/Textual markup display literally everywhere they appear:
lists, pages, tabs, the audit log, form errors and notifications.

A markup interpreter would show ``[bold red]Evil[/]`` as a bold "Evil", and
``[@click=app.quit]Quit[/]`` as a link that quits the app; the administrator
must see exactly what was typed. (Terminal escape sequences never get into a
name: the store refuses control characters, see reliability/test_hostile.py.)
"""

from __future__ import annotations

from store import accounts, blueprints, marketplace, playbooks, tokens
from store.catalog import CUSTOM_KEY
from store.db import Store
from tui.app import IntegrationsAdmin
from tui.dialogs.form import FormDialog

from ..ui import flat, screen_text, type_text

BP = "[bold red]Evil[/]"
BP2 = "[@click=app.quit]Quit[/]"
FIELD = "[b]Field[/b]"
TOKEN = "[reverse]Token[/]"
PLAYBOOK = "[i]Playbook[/i] \\[x]"


async def test_markup_in_names_shows_literally(tmp_path):
    # Rendering is the same whatever the database: SQLite only.
    store = Store(str(tmp_path / "markup.db"))
    owner = accounts.sign_in(store, "alice")
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    bp = blueprints.create(store, owner, iid, name=BP)
    blueprints.create(store, owner, iid, name=BP2)
    blueprints.add_field(store, owner, bp.id, name=FIELD)
    tokens.generate(store, owner, iid, name=TOKEN)
    pb = playbooks.create(store, owner, name=PLAYBOOK)
    playbooks.connect(store, owner, pb.id, bp.id)

    app = IntegrationsAdmin(store, owner)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await pilot.press("enter", "2")  # the Custom integration's blueprints
        await pilot.pause()
        listed = screen_text(app)
        assert BP in listed and BP2 in listed

        # The blueprint's page: its name, its field, its connected playbook.
        await pilot.press("down", "enter")
        await pilot.pause()
        assert f"Custom integration › {BP}" in flat(app)
        assert FIELD in screen_text(app)
        await pilot.press("2")
        await pilot.pause()
        assert PLAYBOOK in screen_text(app)

        # A form error quotes the name as typed.
        await pilot.press("1", "n")
        await type_text(pilot, FIELD)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, FormDialog)
        assert f"'{BP}' already has a field named '{FIELD}'." in flat(app)
        await pilot.press("escape", "escape")
        await pilot.pause()

        # A refusal in a notification names the blueprint and playbook as typed.
        await pilot.press("down", "d")
        await pilot.pause()
        if app.screen.__class__.__name__ == "ConfirmDialog":
            await pilot.press("y")
            await pilot.pause()
        # (the store quotes names with repr(): the backslash shows doubled)
        assert f"{BP!r} is connected to 1 playbook: {PLAYBOOK!r}" in flat(app)
        app.clear_notifications()

        await pilot.press("3")  # API tokens
        await pilot.pause()
        assert TOKEN in screen_text(app)

        await pilot.press("p")  # Playbooks
        await pilot.pause()
        assert PLAYBOOK in screen_text(app)

        await pilot.press("a")  # the audit log names every object as typed
        await pilot.pause()
        log = screen_text(app)
        assert all(name in log for name in (BP, BP2, TOKEN, PLAYBOOK, f"{BP} / {FIELD}"))
        assert app.is_running  # nothing turned into a link that quits
    assert len(blueprints.all_for_account(store, owner.account_id)) == 2
