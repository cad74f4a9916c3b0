"""What every dialog shares: a box in the middle of the screen, over the
screen it was opened from, with a thick border; a bold one-line title cut with
an ellipsis; buttons on the right; and a key that closes it.

The box is the dialog's one child, with the class ``dialog``
(``Vertical(classes="dialog")``, or ``VerticalScroll`` when it may be taller than
the screen); a dialog sets its width, padding and height in its own CSS
(``ConfirmDialog > .dialog { width: 64; }``: the same selector shape, so a
dialog's own rule wins over these).

A dialog has a footer of its own, over the one of the screen behind it: it
shows the dialog's keys (a form's ``tab`` and ``ctrl+s``, a confirmation's
``y`` and ``n``), never those of the screen underneath, which do not work
while the dialog is open."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from textual.screen import ModalScreen

if TYPE_CHECKING:
    from textual.widget import Widget

T = TypeVar("T")


class Dialog(ModalScreen[T], Generic[T]):
    """A modal box; ``close`` and ``cancel`` dismiss it with ``cancel_value``
    (each dialog binds its own key to one of them, under its own binding id)."""

    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > .dialog {
        max-width: 100%; height: auto; border: thick $primary 70%; background: $surface;
    }
    Dialog .dialog-title {
        text-style: bold; width: 100%; text-wrap: nowrap; text-overflow: ellipsis;
    }
    Dialog .dialog-buttons { height: auto; align-horizontal: right; }
    Dialog .dialog-buttons Button { margin-left: 2; }
    """

    cancel_value: Any = None

    async def mount_composed_widgets(self, widgets: list[Widget]) -> None:
        # With what each dialog composes (its box), in the same mount: docked at
        # the bottom, over the footer of the screen behind, from the first frame.
        from tui.widgets.footer import Footer

        await super().mount_composed_widgets([*widgets, Footer(classes="dialog-footer")])

    def on_screen_resume(self) -> None:
        # The database away (its banner): over a dialog too.
        show = getattr(self.app, "show_status", None)
        if callable(show):
            show()

    def action_close(self) -> None:
        self.dismiss(self.cancel_value)

    def action_cancel(self) -> None:
        self.dismiss(self.cancel_value)
