"""Refusals a screen can know before asking: pure functions that return the
store's words for a refusal, or None when the action may go ahead.

The store's own checks (``store.change``, the area modules) raise with these
same words, so each text exists once. No database access and no SQLAlchemy
here: a screen may ask them with what it already shows (the actor, the
account's usage, the object's flags) before opening a form or a confirmation.
The plan refusals live in ``store.catalog`` (``plan_refusal``,
``suspended_by_plan``, ``playbooks_refusal``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

PERMISSION = "Manage add-ons and integrations"


class _MayManage(Protocol):
    @property
    def can_manage(self) -> bool: ...


class _HasRole(Protocol):
    @property
    def role(self) -> str: ...


# A write session's info: (a user's id, their can_manage; None when no longer a
# user), read by Store.write with the account's change counter (no round trip
# more) for ``change.may_manage``.
ACTING = "acting"


def manage_refusal(who: _MayManage, doing: str) -> str | None:
    """Why ``who`` (an Actor, or a user row) cannot ``doing`` (e.g. "create
    blueprints"): they lack the permission *Manage add-ons and integrations*.
    None when they have it."""
    if who.can_manage:
        return None
    return (
        f"You cannot {doing}: it needs the permission '{PERMISSION}'. "
        "Ask an owner of the account to grant it."
    )


def owner_refusal(who: _HasRole, doing: str) -> str | None:
    """Why ``who`` cannot ``doing`` something to the account's users: only an
    owner manages users. None for an owner."""
    if who.role == "owner":
        return None
    return f"You cannot {doing}: only an owner of the account manages users. Ask an owner to do it."


def limit_refusal(
    used: int,
    limit: int,
    what: str,
    *,
    holder: str = "This account",
    remedy: str = "delete one",
) -> str | None:
    """Why one more of ``what`` (plural, e.g. "custom blueprints") does not fit:
    ``holder`` already has ``used`` of ``limit``. None while there is room."""
    if used < limit:
        return None
    return (
        f"{holder} already has {used} of {limit} {what}: {remedy} or ask your operator "
        "to raise the limit."
    )


def changed_meanwhile(label: str) -> str:
    """The words of an edit refused because ``label`` (e.g. "The playbook
    'Sales'") changed since the editor opened it."""
    return f"{label} was changed by someone else meanwhile; reopen it to see the latest version."


def read_only_blueprint_refusal(name: str, native: bool) -> str | None:
    """Why the blueprint ``name`` cannot be changed here: a native integration's
    blueprint is synced from it. None for a custom blueprint."""
    if not native:
        return None
    return f"{name!r} is synced from a native integration: its fields are read-only here."


def managed_webhook_refusal(
    integration_name: str, managed: bool, *, sending: bool = False
) -> str | None:
    """Why a webhook cannot be changed or deleted (or, ``sending``, tested or
    resent): a native integration's webhook is managed by the platform. None
    for the administrator's own webhooks."""
    if not managed:
        return None
    if sending:
        return f"This webhook is managed by {integration_name}: the platform sends to it."
    return (
        f"This webhook is managed by {integration_name}: it is read-only here. "
        f"Disable {integration_name} in the Marketplace to stop it."
    )


# What a native integration does instead of what an administrator creates under
# the Custom integration (``native_integration_refusal``'s ``what_instead``).
NATIVE_BLUEPRINTS = (
    "its blueprint is created and synced automatically. "
    "Custom blueprints belong to the Custom integration."
)
NATIVE_TOKENS = (
    "its API token is managed automatically and never shown. "
    "Tokens you generate belong to the Custom integration."
)
NATIVE_WEBHOOKS = (
    "its webhooks are managed and read-only. Your own webhooks belong to the Custom integration."
)


def native_integration_refusal(extension_name: str, native: bool, what_instead: str) -> str | None:
    """Why something cannot be created under a native integration (blueprints,
    tokens, webhooks belong to the Custom integration); ``what_instead`` says
    what the native integration does instead. None for the Custom integration."""
    if not native:
        return None
    return f"{extension_name} is a native integration: {what_instead}"


def managed_token_refusal(token_name: str, managed: bool) -> str | None:
    """Why a token cannot be revoked here: a native integration manages it.
    None for the tokens an administrator generated."""
    if not managed:
        return None
    return (
        f"{token_name!r} is managed automatically by its native integration; "
        "it cannot be revoked here."
    )


def revoked_token_refusal(token_name: str, revoked_at: datetime | None) -> str | None:
    """Why a token cannot be revoked: it was already, at ``revoked_at`` (UTC).
    None while it is not revoked."""
    if revoked_at is None:
        return None
    return f"The token {token_name!r} was already revoked on {revoked_at:%Y-%m-%d %H:%M} UTC."


def token_rotation_refusal(
    token_name: str,
    *,
    managed: bool,
    status: str,
    previous_until: datetime | None,
    now: datetime,
) -> str | None:
    """Why the token ``token_name`` cannot be rotated: managed by a native
    integration, revoked or expired (generate a new one), or a previous
    rotation's grace still runs (``previous_until`` in the future: end it first).
    None when it may be rotated."""
    refusal = managed_token_refusal(token_name, managed)
    if refusal:
        return refusal
    if status in ("revoked", "expired"):
        return f"The token {token_name!r} is {status}: generate a new token instead."
    if previous_until is not None and previous_until > now:
        return (
            f"The token {token_name!r} was rotated already; its previous token keeps "
            f"working until {previous_until:%Y-%m-%d %H:%M} UTC: end that grace first."
        )
    return None


def blueprint_delete_refusal(name: str, playbooks: Sequence[str]) -> str | None:
    """Why the blueprint ``name`` cannot be deleted: it is connected to
    ``playbooks`` (their names, in the order to show). None when it is not."""
    if not playbooks:
        return None
    names = ", ".join(repr(p) for p in playbooks)
    return (
        f"{name!r} is connected to {len(playbooks)} playbook"
        f"{'s' if len(playbooks) != 1 else ''}: {names}. Disconnect it first."
    )


def user_remove_refusal(
    login: str, *, is_yourself: bool, is_owner: bool, owners: int
) -> str | None:
    """Why the user ``login`` cannot be removed: it is yourself (from the
    program), or the account's last owner (``owners`` is how many it has).
    None when they can be removed."""
    if is_yourself:
        return "You cannot remove yourself: ask another owner, or use the command line."
    if is_owner and owners <= 1:
        return (
            f"{login} is the last owner of the account and cannot be removed: "
            "promote another user to owner first."
        )
    return None


def owner_permission_refusal(login: str, *, is_owner: bool, can_manage: bool) -> str | None:
    """Why the permission cannot be withdrawn from ``login`` (``can_manage``
    False is the withdrawal): an owner always has it. None otherwise."""
    if is_owner and not can_manage:
        return (
            f"{login} is an owner, and an owner always has the permission: "
            "demote them to member first."
        )
    return None


def user_demote_refusal(login: str, *, is_owner: bool, owners: int) -> str | None:
    """Why the user ``login`` cannot be demoted to member: the account's last
    owner. None otherwise."""
    if is_owner and owners <= 1:
        return (
            f"{login} is the last owner of the account and cannot be demoted: "
            "promote another user to owner first."
        )
    return None
