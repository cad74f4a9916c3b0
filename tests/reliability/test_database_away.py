"""The database away: a proxy in front of the test PostgreSQL stops forwarding
(a silent network: a dropped VPN, nothing refused, nothing answered). The
program says so in one banner within the statement timeout, keys still work,
ctrl+q quits at once; once the proxy forwards again the same program works on
without a restart."""

from __future__ import annotations

import pytest

from store import blueprints
from tui.app import IntegrationsAdmin
from tui.dialogs.form import FormDialog
from tui.saving import StatusLine

from ..conftest import PG_URL, pg_behind_proxy
from ..ui import flat, notes, type_text, wait_until

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")


@pytest.fixture
def behind_proxy(tmp_path):
    """(store through the proxy, the proxy, the owner); the data made directly.
    A short statement timeout (the URL overrides the default): the banner's time."""
    for st, proxy, owner, _custom in pg_behind_proxy(tmp_path, "?statement_timeout=1s"):
        assert st.answer_within_s == 1.0
        yield st, proxy, owner


def banner(app) -> str:
    found = app.screen.query(StatusLine)
    if not found or not found.first().has_class("-shown"):
        return ""
    return str(found.first().content)


async def test_silent_network_banner_keys_work_then_recovers(behind_proxy):
    st, proxy, owner = behind_proxy
    app = IntegrationsAdmin(st, owner)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.press("enter", "2", "n")
        form = app.screen
        assert isinstance(form, FormDialog)
        await type_text(pilot, "While silent")
        proxy.silent.set()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "Cannot reach the database" in banner(app), tries=400)
        # Said while the network still holds the call: from the statement
        # timeout (1 s here) the program waits for, not from the kernel giving up.
        assert [j.done for j in app.changes_on_the_way()] == [False]
        assert f"Cannot reach the database at 127.0.0.1:{proxy.port}" in banner(app)
        assert "retrying in" in banner(app)
        # Keys still work: escape gives the change up, a second one closes the form.
        await pilot.press("escape")
        await pilot.press("escape")
        assert not isinstance(app.screen, FormDialog)
        await pilot.press("question_mark")  # help opens over a silent database
        assert "Keys" in flat(app) or "Help" in flat(app)
        await pilot.press("escape")
        # One banner, not a toast per failed call.
        assert not any("Cannot reach" in n for n in notes(app))

        proxy.silent.clear()  # the network is back
        await pilot.press("r")  # retry now
        await wait_until(pilot, lambda: banner(app) == "", tries=500)
        await wait_until(pilot, lambda: any("again" in n for n in notes(app)), tries=200)
        # The given-up change saved nothing; a new one works in the same program.
        await pilot.press("n")
        assert isinstance(app.screen, FormDialog)
        await type_text(pilot, "After")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, FormDialog), tries=500)
    names = [b.name for b in blueprints.all_for_account(st, owner.account_id)]
    assert names == ["After"]


async def test_ctrl_q_quits_at_once_while_a_call_hangs(behind_proxy):
    st, proxy, owner = behind_proxy
    app = IntegrationsAdmin(st, owner)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.press("enter", "2", "n")
        await type_text(pilot, "Never")
        proxy.silent.set()
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "Cannot reach" in banner(app), tries=400)
        held = app.changes_on_the_way()
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: not app.is_running, tries=100)
    # The program ended while the network still held its call (nothing waited for it).
    assert proxy.silent.is_set()
    assert [j.done for j in held] == [False]
