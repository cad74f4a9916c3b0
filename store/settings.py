"""Account settings an administrator may change from the TUI: how long a
webhook receiver has to answer, and whether webhooks may reach private networks.

Both need the permission *Manage add-ons and integrations* and are audit-logged.
(Plan and limits are the operator's, see ``accounts.set_plan_and_limits``.)
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from . import catalog, validate
from .accounts import Actor
from .change import Change, change
from .db import Store
from .errors import NotFound, ValidationError
from .models import Account, Integration, Webhook

TIMEOUT_MIN_S = 1
TIMEOUT_MAX_S = 30
ALLOW_PRIVATE_LABEL = "Allow webhooks to private networks"


@dataclass(frozen=True)
class WebhookSettings:
    timeout_s: int
    allow_private: bool  # lifts the destination guard and allows plain http


def webhook_settings(store: Store, account_id: int) -> WebhookSettings:
    """The account's webhook settings."""
    with store.read() as s:
        a = s.get(Account, account_id)
        if a is None:
            raise NotFound("The account no longer exists.")
        return WebhookSettings(a.webhook_timeout_s, a.allow_private_webhooks)


@dataclass(frozen=True)
class PrivateUse:
    """An active webhook that needs *Allow webhooks to private networks*."""

    webhook_id: int
    integration_name: str
    url: str
    reason: str  # e.g. "plain http; 10.0.0.5 is a private-network address"


def webhooks_needing_private_networks(store: Store, account_id: int) -> list[PrivateUse]:
    """The active webhooks (their integration enabled) that turning *Allow webhooks
    to private networks* off would stop: plain ``http`` URLs, IP literals the
    guard refuses and ``localhost``. Host names are not looked up (no DNS here):
    one that resolves to a private address is refused when it sends. One query."""
    from .webhooks import private_reason

    with store.read() as s:
        rows = s.exec(
            select(Webhook.id, Webhook.url, Integration.extension_key)
            .join(Integration, Integration.id == Webhook.integration_id)
            .where(Integration.account_id == account_id, col(Integration.enabled))
            .order_by(col(Webhook.id))
        ).all()
    found = []
    for webhook_id, url, extension_key in rows:
        why = private_reason(url)
        if why:
            found.append(
                PrivateUse(webhook_id or 0, catalog.extension(extension_key).name, url, why)
            )
    return found


def _check_timeout(seconds: int) -> None:
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise ValidationError("webhook_timeout_s", "The webhook timeout must be whole seconds.")
    if not TIMEOUT_MIN_S <= seconds <= TIMEOUT_MAX_S:
        raise ValidationError(
            "webhook_timeout_s",
            f"The webhook timeout must be {TIMEOUT_MIN_S}-{TIMEOUT_MAX_S} seconds; "
            f"{seconds} is outside that range.",
        )


def _check_allow(allow: bool) -> None:
    if not isinstance(allow, bool):
        raise ValidationError("allow_private_webhooks", f"{ALLOW_PRIVATE_LABEL} is yes or no.")


def _allow_doing(allow: bool) -> str:
    return "allow webhooks to private networks" if allow else "change the webhook settings"


def _set_account(c: Change, attr: str, value: object, detail: str) -> None:
    """Set one setting of the account, with its audit entry when it changes."""
    account = c.account
    if getattr(account, attr) != value:
        setattr(account, attr, value)
        c.s.add(account)
        c.log("account.settings", "account", account.id, account.name, detail)


def _set_timeout(c: Change, seconds: int) -> None:
    before = c.account.webhook_timeout_s
    _set_account(c, "webhook_timeout_s", seconds, f"webhook timeout {before} s -> {seconds} s")


def _set_allow(c: Change, allow: bool) -> None:
    _set_account(
        c,
        "allow_private_webhooks",
        allow,
        f"{ALLOW_PRIVATE_LABEL}: {'off -> on' if allow else 'on -> off'}",
    )


def _settings(c: Change) -> WebhookSettings:
    return WebhookSettings(c.account.webhook_timeout_s, c.account.allow_private_webhooks)


def set_webhook_timeout(store: Store, actor: Actor, seconds: int) -> WebhookSettings:
    """How long a receiver has to answer a delivery: a whole number of 1-30 seconds."""
    _check_timeout(seconds)
    with change(store, actor, "change the webhook timeout") as c:
        _set_timeout(c, seconds)
        return _settings(c)


def set_allow_private_webhooks(store: Store, actor: Actor, allow: bool) -> WebhookSettings:
    """Turn *Allow webhooks to private networks* on or off (off by default).

    On, webhooks may target loopback, private, link-local and other internal
    addresses, and plain ``http`` URLs are accepted: for intranet receivers and tests.
    """
    _check_allow(allow)
    with change(store, actor, _allow_doing(allow)) as c:
        _set_allow(c, allow)
        return _settings(c)


def update_webhook_settings(
    store: Store, actor: Actor, *, seconds: int, allow_private: bool
) -> WebhookSettings:
    """Save the account settings form: the webhook timeout and *Allow webhooks
    to private networks*, in one transaction (each change audit-logged as by
    ``set_webhook_timeout`` and ``set_allow_private_webhooks``). A refusal of
    either changes neither."""
    _check_timeout(seconds)
    _check_allow(allow_private)
    with change(store, actor, "change the webhook timeout") as c:
        _set_timeout(c, seconds)
        _set_allow(c, allow_private)
        return _settings(c)


# Every public function above refuses wrong-typed arguments before it runs
# (set_webhook_timeout checks seconds itself, naming the form's field).
validate.check_public(
    globals(),
    own={"set_webhook_timeout": ["seconds"], "update_webhook_settings": ["seconds"]},
)
