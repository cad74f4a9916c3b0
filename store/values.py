"""Values the first screen shows, importable without SQLAlchemy.

The program paints its first screen before SQLAlchemy, SQLModel and pydantic
are imported (``store.glance``), so the values that screen needs, and the one
function that builds the Integrations list, live here with no database
import. ``store.accounts`` and ``store.integrations`` re-export them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from . import catalog
from .catalog import Extension

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[tuple[object, ...], str]:
    """The sort key of a name as people read it: case aside, and numbers by
    their value, so "Blueprint 2" comes before "Blueprint 10". Ties (names that
    differ only by case or leading zeros) fall back to the name itself, so the
    order is the same on every database."""
    parts = _DIGITS.split(name.casefold())
    # split() alternates text and digits, starting with text: at every
    # position two keys compare str with str or int with int.
    key = tuple(int(p) if i % 2 else p for i, p in enumerate(parts))
    return key, name


@dataclass(frozen=True)
class Actor:
    """The person at the keyboard: who they are when the program opened."""

    user_id: int
    login: str
    name: str
    account_id: int
    role: str
    can_manage: bool

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"


@dataclass(frozen=True)
class AccountInfo:
    id: int
    name: str
    plan: str
    limit_custom_blueprints: int
    limit_connected_blueprints: int
    limit_data_fields: int
    limit_playbooks: int
    webhook_timeout_s: int
    allow_private_webhooks: bool
    custom_blueprints: int
    playbooks: int


@dataclass(frozen=True)
class IntegrationInfo:
    id: int
    key: str
    name: str
    category: str
    description: str
    native: bool
    enabled: bool
    first_enabled_at: datetime
    enabled_at: datetime
    enabled_by: str
    blueprints: int
    tokens: int  # active, not revoked
    webhooks: int
    # Why it does not run on the account's plan (catalog.suspended_by_plan), "" when it runs.
    suspended: str = ""

    @property
    def suspension_label(self) -> str:
        """'Suspended: needs Business', or '' when the plan includes it."""
        return catalog.suspension_label(self.key) if self.suspended else ""

    @property
    def extension(self) -> Extension:
        return catalog.extension(self.key)


# (id, extension_key, enabled, first_enabled_at, enabled_at, enabled_by) of an Integration row
IntegrationRow = tuple[int, str, bool, datetime, datetime, str]


def integration_infos(
    rows: Iterable[IntegrationRow],
    blueprints: dict[int, int],
    tokens: dict[int, int],
    webhooks: dict[int, int],
    plan: str,
) -> list[IntegrationInfo]:
    """Integration rows and their counts, in Marketplace order; ``plan`` is the
    account's, which says whether each is suspended."""
    order = {e.key: i for i, e in enumerate(catalog.EXTENSIONS)}
    out = []
    for iid, key, enabled, first_enabled_at, enabled_at, enabled_by in sorted(
        rows, key=lambda r: order.get(r[1], 999)
    ):
        ext = catalog.extension(key)
        out.append(
            IntegrationInfo(
                id=iid,
                key=ext.key,
                name=ext.name,
                category=ext.category,
                description=ext.description,
                native=ext.native,
                enabled=bool(enabled),
                first_enabled_at=first_enabled_at,
                enabled_at=enabled_at,
                enabled_by=enabled_by,
                blueprints=blueprints.get(iid, 0),
                tokens=tokens.get(iid, 0),
                webhooks=webhooks.get(iid, 0),
                # Only an enabled one is suspended (a disabled one is paused anyway).
                suspended=(catalog.suspended_by_plan(ext.key, plan) or "") if enabled else "",
            )
        )
    return out
