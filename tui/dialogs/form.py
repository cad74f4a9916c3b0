"""A form dialog: labelled fields, errors next to the field they concern,
`ctrl+s` Confirm, `escape` cancel. A refused submit keeps what was typed.

The dialog calls ``submit(values)`` off the UI thread (``IntegrationsAdmin.save``:
``submit`` must not touch widgets); a ``DomainError`` it raises is shown in
the form (a ``ValidationError`` under its field), anything returned closes
the dialog with that value. While it takes long the form says "Saving...", or
that it waits for another administrator's change; ``escape`` then gives the
change up (nothing saved) and closes the form, a second one closes it at once
(the change's outcome is then a notification).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from store.errors import DomainError, ValidationError
from tui.dialogs.base import Dialog
from tui.keys import key_for

if TYPE_CHECKING:
    from tui.app import IntegrationsAdmin

T = TypeVar("T")


@dataclass
class FormField:
    name: str
    label: str
    kind: str = "input"  # input | checkbox | select | password
    value: Any = ""
    placeholder: str = ""
    options: Sequence[tuple[str, Any]] = field(default_factory=tuple)
    max_length: int = 0
    help: str = ""


class FormDialog(Dialog[T], Generic[T]):
    DEFAULT_CSS = """
    FormDialog > .dialog { width: 72; max-height: 100%; padding: 0 2; }
    FormDialog .form-title { margin: 1 0 0 0; }
    FormDialog .field-label { margin-top: 1; color: $text-muted; }
    FormDialog Input, FormDialog Select { background: $boost; }
    FormDialog Checkbox { margin-top: 1; }
    FormDialog .field-help { color: $text-muted; }
    FormDialog .field-error { color: $text-error; display: none; }
    FormDialog .field-error.shown { display: block; }
    FormDialog .-invalid-field { background: $error 20%; }
    FormDialog .form-error { color: $text-error; display: none; margin-top: 1; }
    FormDialog .form-error.shown { display: block; }
    FormDialog .form-saving { color: $text-warning; text-style: bold; display: none; }
    FormDialog .form-saving.shown { display: block; }
    FormDialog .dialog-buttons { margin: 1 0; }
    /* A save on its way: the button dims at once (as a disabled one looks, the
       focus staying where it is); "Saving..." follows if it takes long. */
    FormDialog #confirm.-saving { text-style: bold dim; }
    """
    BINDINGS = [
        # Textual's own tab and shift+tab, with ids and shown in the dialog's footer.
        # Priority: the focus moves as the key arrives, so the keys typed after it
        # in the same burst go to the next field. Without it, a key went to the
        # widget focused when it was dispatched: "Ref", tab, "Their ref" typed
        # quickly (or over SSH, in one read) all landed in the first field.
        Binding("tab", "app.focus_next", "Next field", id="form.next", priority=True),
        Binding(
            "shift+tab",
            "app.focus_previous",
            "Previous field",
            show=False,
            id="form.prev",
            priority=True,
        ),
        # Confirm once the field being typed in has taken the keys before ctrl+s.
        Binding("ctrl+s", "confirm_typed", "Confirm", id="form.confirm", priority=True),
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
    ]

    def __init__(
        self,
        title: str,
        fields: Sequence[FormField],
        submit: Callable[[dict[str, Any]], T],
        *,
        confirm_label: str = "Confirm",
        intro: str = "",
    ) -> None:
        super().__init__()
        self.form_title = title
        self.fields = list(fields)
        self.submit = submit
        self.confirm_label = confirm_label
        self.intro = intro
        self.saving: Any = None  # the change on its way (tui.saving.Save)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            yield Label(Text(self.form_title), classes="form-title dialog-title")
            if self.intro:
                yield Static(Text(self.intro), classes="field-help")
            for f in self.fields:
                yield from self.compose_field(f)
            yield Static("", id="form-error", classes="form-error")
            yield Static("", id="form-saving", classes="form-saving")
            with Horizontal(classes="buttons dialog-buttons"):
                cancel = key_for(self.app, self, "form.cancel", short=True)
                confirm = key_for(self.app, self, "form.confirm")
                yield Button(f"Cancel ({cancel})", id="cancel")
                yield Button(f"{self.confirm_label} ({confirm})", id="confirm", variant="primary")

    def compose_field(self, f: FormField) -> ComposeResult:
        if f.kind == "checkbox":
            yield Checkbox(f.label, value=bool(f.value), id=f"f-{f.name}", compact=True)
        else:
            yield Label(f.label, classes="field-label")
            if f.kind == "select":
                yield Select(
                    list(f.options),
                    value=f.value,
                    allow_blank=False,
                    id=f"f-{f.name}",
                    compact=True,
                )
            else:
                yield Input(
                    value=str(f.value or ""),
                    placeholder=f.placeholder,
                    max_length=f.max_length,
                    password=f.kind == "password",
                    id=f"f-{f.name}",
                    compact=True,
                )
        if f.help:
            yield Static(Text(f.help), classes="field-help")
        yield Static("", id=f"e-{f.name}", classes="field-error")

    def on_mount(self) -> None:
        if self.fields:
            self.query_one(f"#f-{self.fields[0].name}").focus()

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self.fields:
            widget = self.query_one(f"#f-{f.name}")
            out[f.name] = widget.value  # type: ignore[attr-defined]
        return out

    def set_value(self, name: str, value: Any) -> None:
        self.query_one(f"#f-{name}").value = value  # type: ignore[attr-defined]

    def clear_errors(self) -> None:
        for w in self.query(".field-error, .form-error"):
            w.remove_class("shown")
            w.update("")  # type: ignore[attr-defined]
        for w in self.query(".-invalid-field"):
            w.remove_class("-invalid-field")

    def show_error(self, exc: DomainError) -> None:
        from store.errors import GaveUp

        if isinstance(exc, GaveUp):  # escape while waiting: nothing saved, the form goes
            self.app.notify(str(exc), title="Not saved", severity="warning")
            self.dismiss(self.cancel_value)
            return
        target = None
        if isinstance(exc, ValidationError):
            found = self.query(f"#e-{exc.field}")
            target = found.first() if found else None
        if target is None:
            target = self.query_one("#form-error")
        target.update(Text(str(exc)))  # type: ignore[attr-defined]
        target.add_class("shown")
        if isinstance(exc, ValidationError) and self.query(f"#f-{exc.field}"):
            widget = self.query_one(f"#f-{exc.field}")
            widget.add_class("-invalid-field")
            widget.focus()

    def show_saving(self, state: str | None) -> None:
        """The save's state under the fields ("Saving...", waiting), or nothing
        (done: the confirm button no longer dimmed)."""
        if state is None:
            self.query("#confirm").remove_class("-saving")
        line = self.query_one("#form-saving", Static)
        line.update(Text(state or ""))
        line.set_class(state is not None, "shown")

    def after_keys_typed(self, fn: Callable[[], object]) -> None:
        """Call ``fn`` once the field being typed in has taken the keys that came
        before this one. A priority key (ctrl+s, ctrl+t, ctrl+g) is handled as it
        arrives, ahead of the characters still queued for the focused field: a
        name typed and saved in one burst (fast typing; over SSH, keys often
        come in one read) was saved without its last letters, or refused as
        empty. The call waits in the field's own queue, behind those keys, then
        in each of its ancestors' up to the App's: a key the field does not take
        itself (space on a checkbox) bubbles up that way to the binding that
        handles it, and a save made before it arrived missed it."""
        focused = self.app.focused
        if focused is None or focused is self:
            fn()
            return
        chain = list(focused.ancestors_with_self)  # the field, ..., the screen, the App

        def behind(i: int) -> None:
            if i == len(chain):
                fn()
            else:
                chain[i].call_later(behind, i + 1)

        behind(0)

    def action_confirm_typed(self) -> None:
        self.after_keys_typed(self.action_confirm)

    def action_confirm(self) -> None:
        if self.saving is not None and not self.saving.done:
            return  # one save at a time: ctrl+s again while it runs does nothing
        self.clear_errors()
        app = cast("IntegrationsAdmin", self.app)
        self.saving = app.save(
            self.submit, self.values(), on_done=self._saved, field_errors_to=self
        )
        # The key's first reaction, whatever the database's distance.
        self.query("#confirm").add_class("-saving")

    def _saved(self, result: Any) -> None:
        if self.is_attached and self.app.screen is self:
            self.dismiss(result)

    def action_cancel(self) -> None:
        from tui.saving import GIVING_UP

        job = self.saving
        if job is not None and not job.done:
            if job.cancelled.is_set():  # the second escape: close now, report later
                job.view = None
                super().action_cancel()
                return
            job.give_up()
            self.show_saving(GIVING_UP)
            return
        super().action_cancel()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm":
            self.action_confirm_typed()
        elif event.button.id == "cancel":
            self.action_cancel()
