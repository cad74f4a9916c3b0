"""The create-webhook form: URL, `ctrl+t` Test, signing key (`ctrl+g`
generates one), event types, `ctrl+s` Confirm. The same form edits a saved
webhook (``webhook=``): filled with its URL and events, the key left blank to
keep it (a new one replaces it; a checkbox removes it); the edit carries the
version it opened, so a change made meanwhile is refused instead of lost.

The test runs in a worker: the form stays usable while it runs ("Testing…"),
`escape` cancels a running test (a second `escape` closes the form). Confirm
is allowed without a passing test; the form then says the webhook is not
verified. A test that matches what is confirmed (same URL and key) becomes the
new webhook's first logged delivery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Checkbox, Input, Label, SelectionList, Static
from textual.worker import Worker

from store import deliveries, webhooks
from store.deliveries import AttemptResult
from store.errors import DomainError, ValidationError
from store.webhooks import WebhookInfo
from tui import colours
from tui.dialogs.form import FormDialog, FormField
from tui.keys import key_for

if TYPE_CHECKING:
    from tui.app import IntegrationsAdmin

# {test}, {cancel}: the keys in force (WebhookForm.say).
NOT_TESTED = "Not verified yet: {test} sends a test delivery to this URL."
TESTING = "Testing… ({cancel} cancels the test)"
CHANGED = "Changed since the last test: not verified ({test} tests again)."
CANCELLED = "Test cancelled: not verified."
VERIFIED_BEFORE = "Verified by a test of this URL; {test} tests again."
NEEDS_TEST = "A new URL or key is not verified: {test} sends a test to it."


def result_line(result: AttemptResult) -> Text:
    """A test's outcome in one line: status, latency and the reason in words."""
    latency = f" · {result.latency_ms} ms" if result.latency_ms is not None else ""
    if result.ok:
        return Text(f"✓ Verified: {result.reason}{latency}", style=colours.style("good", "bold"))
    return Text(f"✗ Not verified: {result.reason}{latency}", style=colours.style("bad", "bold"))


class WebhookForm(FormDialog[WebhookInfo]):
    DEFAULT_CSS = """
    WebhookForm #test-status { color: $text-muted; }
    WebhookForm #test-status.-testing { color: $text-warning; text-style: bold; }
    WebhookForm SelectionList { height: 6; background: $boost; }
    """
    BINDINGS = [
        Binding("ctrl+t", "test", "Test", id="webhook_form.test", priority=True),
        Binding("ctrl+g", "generate", "Generate key", id="webhook_form.generate", priority=True),
    ]

    def __init__(
        self, admin: IntegrationsAdmin, integration_id: int, webhook: WebhookInfo | None = None
    ) -> None:
        editing = webhook is not None
        key_fields = [
            FormField(
                "sign_key",
                "New signing key (blank keeps the current one)"
                if editing and webhook.signed
                else "Signing key (optional)",
                placeholder="ctrl+g generates one, or type at least "
                f"{webhooks.TYPED_KEY_MIN_BYTES} characters",
                help="Give it to your receiver; masked once saved.",
            )
        ]
        if editing and webhook.signed:
            key_fields.append(
                FormField("remove_key", "Remove the signing key (deliveries unsigned)", "checkbox")
            )
        super().__init__(
            "Edit the webhook" if editing else "Create a webhook",
            [
                # No max_length: an Input would cut a pasted URL silently; the
                # store refuses one over URL_MAX with its own message instead.
                FormField(
                    "url", "URL", placeholder="https://", value=webhook.url if editing else ""
                ),
                *key_fields,
                FormField("event_types", "Event types (space toggles)", kind="events"),
            ],
            self._save if editing else self._create,
        )
        self.admin = admin
        self.integration_id = integration_id
        self.webhook = webhook
        self.last_result: AttemptResult | None = None
        self.tested_keep = False  # the last test was signed with the saved key
        self.test_worker: Worker[None] | None = None

    # -- layout ------------------------------------------------------------------------

    def compose_field(self, f: FormField) -> ComposeResult:
        if f.kind == "events":
            yield Label(f.label, classes="field-label")
            chosen = self.webhook.receives if self.webhook is not None else (lambda _t: True)
            yield SelectionList[str](
                *[(t, t, chosen(t)) for t in webhooks.EVENT_TYPES],
                id="f-event_types",
                compact=True,
            )
            yield Static("", id="e-event_types", classes="field-error")
            return
        yield from super().compose_field(f)
        if f.name == "url":
            yield Static(Text(self.say(self._first_status())), id="test-status")

    def _first_status(self) -> str:
        w = self.webhook
        if w is None or not w.verified:
            return NOT_TESTED
        return VERIFIED_BEFORE

    def values(self) -> dict[str, Any]:
        out = {
            "url": self.query_one("#f-url", Input).value,
            "sign_key": self.query_one("#f-sign_key", Input).value,
            "event_types": list(self.query_one("#f-event_types", SelectionList).selected),
        }
        if self.query("#f-remove_key"):
            out["remove_key"] = self.query_one("#f-remove_key", Checkbox).value
        return out

    def _keeps_key(self, values: dict[str, Any]) -> bool:
        """An edit that leaves the key field blank (and the key not removed) keeps it."""
        return (
            self.webhook is not None
            and not values["sign_key"].strip()
            and not values.get("remove_key", False)
        )

    def say(self, template: str) -> str:
        """A hint with the keys in force for Test and cancel."""
        return template.format(
            test=key_for(self.app, self, "webhook_form.test"),
            cancel=key_for(self.app, self, "form.cancel"),
        )

    def on_mount(self) -> None:
        # The placeholder names the generate key: the one in force.
        generate = key_for(self.app, self, "webhook_form.generate")
        key_input = self.query_one("#f-sign_key", Input)
        key_input.placeholder = key_input.placeholder.replace("ctrl+g", generate, 1)

    def set_status(self, text: Text | str, *, testing: bool = False) -> None:
        status = self.query_one("#test-status", Static)
        status.update(text if isinstance(text, Text) else Text(self.say(text)))
        status.set_class(testing, "-testing")

    @property
    def testing(self) -> bool:
        return self.test_worker is not None and self.test_worker.is_running

    # -- actions ---------------------------------------------------------------------------

    def action_test(self) -> None:
        self.after_keys_typed(self._start_test)

    def _start_test(self) -> None:
        values = self.values()
        self.clear_errors()
        self.set_status(TESTING, testing=True)
        self.test_worker = self.run_worker(
            self._test(values["url"], values["sign_key"], self._keeps_key(values)),
            group="webhook-form-test",
            exclusive=True,  # a new test replaces a running one
            exit_on_error=False,
        )

    async def _test(self, url: str, key: str, keep_key: bool = False) -> None:
        try:
            if self.webhook is not None:
                result = await deliveries.test_edit(
                    self.admin.store,
                    self.admin.actor,
                    self.webhook.id,
                    url,
                    key or None,
                    keep_key=keep_key,
                )
            else:
                result = await deliveries.test_url(
                    self.admin.store, self.admin.actor, self.integration_id, url, key or None
                )
        except DomainError as exc:
            self.set_status(NOT_TESTED)
            self.show_error(exc)
            return
        except Exception as exc:  # never leave "Testing…" on screen
            self.set_status(
                Text(
                    "✗ The test could not run: an unexpected error (the notification says "
                    "where its details are).",
                    style=colours.style("bad"),
                )
            )
            self.admin.report(exc)  # logged with its traceback; the form stays open
            return
        self.last_result = result
        self.tested_keep = keep_key
        self.set_status(result_line(result))

    def cancel_test(self) -> bool:
        if not self.testing:
            return False
        assert self.test_worker is not None
        self.test_worker.cancel()
        self.set_status(CANCELLED)
        return True

    def action_cancel(self) -> None:
        if not self.cancel_test():  # escape first stops a running test
            super().action_cancel()

    def action_confirm(self) -> None:
        self.cancel_test()  # here, on the UI thread: the save runs in a thread
        super().action_confirm()

    def action_generate(self) -> None:
        self.after_keys_typed(self._generate)

    def _generate(self) -> None:
        self.set_value("sign_key", webhooks.generate_signing_key())
        self.query_one("#f-sign_key", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._follow_changes()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self._follow_changes()

    def _follow_changes(self) -> None:
        values = self.values()
        if self.last_result is None:
            w = self.webhook
            if w is not None and not self.testing and w.verified:
                # The saved URL (and key) were verified: a new one asks for a new Test.
                same = values["url"].strip() == w.url and self._keeps_key(values)
                self.set_status(VERIFIED_BEFORE if same else NEEDS_TEST)
            return
        if self.testing:
            return
        if self._keeps_key(values) or self.tested_keep:
            same = self._keeps_key(values) == self.tested_keep
            matches = same and self.last_result.url == values["url"].strip()
        else:
            key = values["sign_key"].strip() or None
            matches = deliveries.attempt_matches(self.last_result, values["url"].strip(), key)
        self.set_status(result_line(self.last_result) if matches else CHANGED)

    def _save(self, values: dict[str, Any]) -> WebhookInfo:
        if not values["event_types"]:
            raise ValidationError(
                "event_types", "Choose at least one event type (all are chosen by default)."
            )
        assert self.webhook is not None
        self.cancel_test()
        key: object
        if values.get("remove_key"):
            key = None
        elif values["sign_key"].strip():
            key = values["sign_key"]
        else:
            key = webhooks.KEEP_KEY
        return webhooks.update(
            self.admin.store,
            self.admin.actor,
            self.webhook.id,
            url=values["url"],
            sign_key=key,
            event_types=values["event_types"],
            version=self.webhook.version,
            test=self.last_result,
        )

    def _create(self, values: dict[str, Any]) -> WebhookInfo:
        if not values["event_types"]:
            raise ValidationError(
                "event_types", "Choose at least one event type (all are chosen by default)."
            )
        return webhooks.create(
            self.admin.store,
            self.admin.actor,
            self.integration_id,
            url=values["url"],
            sign_key=values["sign_key"] or None,
            event_types=values["event_types"],
            test=self.last_result,
        )
