"""One dialog base (tui/dialogs/base.py): every modal of the program is a
``Dialog``, draws the same box (each its own width and border colour) and closes
with its own key, giving its own "cancelled" value."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from textual.app import App
from textual.screen import ModalScreen

import tui
from tui.dialogs.base import Dialog
from tui.dialogs.confirm import ConfirmDialog
from tui.dialogs.form import FormDialog, FormField
from tui.dialogs.picker import PickerDialog
from tui.widgets.filter_table import Row


def test_every_modal_is_a_dialog():
    modals = []
    for info in pkgutil.walk_packages(tui.__path__, "tui."):
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if (
                inspect.isclass(obj)
                and issubclass(obj, ModalScreen)
                and obj.__module__ == info.name
                and obj is not Dialog
            ):
                modals.append(obj)
    assert len(modals) >= 6
    assert [m.__name__ for m in modals if not issubclass(m, Dialog)] == []


async def test_the_box_and_the_key_that_closes_it():
    results: list[object] = []
    borders, backgrounds = [], []
    app = App[None]()
    async with app.run_test(size=(80, 24)) as pilot:
        for dialog, width in (
            (ConfirmDialog("Delete it?", "It goes."), 64),
            (FormDialog("Add", [FormField("name", "Name")], lambda v: v), 72),
            (PickerDialog("Pick", ("Name",), [Row("1", ("One",))]), 76),
        ):
            await app.push_screen(dialog, results.append)
            await pilot.pause()
            box = dialog.query_one(".dialog")
            assert box.outer_size.width == width
            assert (box.region.x, box.region.right) == ((80 - width) // 2, (80 + width) // 2)
            kind, colour = box.styles.border_top
            assert kind == "thick"
            borders.append(colour)
            backgrounds.append(box.styles.background)
            await pilot.press("escape")
            await pilot.pause()
    # A confirmation's border is the error colour; the others the primary one.
    assert borders[0] != borders[1] == borders[2]
    assert backgrounds[0] == backgrounds[1] == backgrounds[2]
    assert results == [False, None, None]
