"""The Marketplace: enabling and disabling extensions under the plan rules.

Disabling pauses an integration; enabling it again restores it as it was.
Nothing is ever deleted here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from . import catalog, clock, tokens_format, validate
from .accounts import Actor
from .catalog import Extension, plan_refusal

# The plan rules live in the catalog (importable without SQLAlchemy); re-exported here.
from .catalog import suspended_by_plan as suspended_by_plan
from .change import change
from .db import Store
from .errors import NotFound
from .models import Account, ApiToken, Blueprint, BlueprintField, Integration, Webhook


@dataclass(frozen=True)
class ExtensionState:
    extension: Extension
    enabled: bool
    integration_id: int | None
    allowed: bool  # the account's plan includes it

    @property
    def suspended(self) -> bool:
        """Enabled, but the plan no longer includes it (see catalog.suspended_by_plan)."""
        return self.enabled and not self.allowed


def extensions(store: Store, account_id: int) -> list[ExtensionState]:
    """The catalog with this account's state, in catalog order."""
    with store.read() as s:
        account = s.get(Account, account_id)
        if account is None:
            raise NotFound("The account no longer exists.")
        rows = s.exec(select(Integration).where(Integration.account_id == account_id)).all()
        by_key = {r.extension_key: r for r in rows}
        return [
            ExtensionState(
                extension=ext,
                enabled=bool(by_key.get(ext.key) and by_key[ext.key].enabled),
                integration_id=by_key[ext.key].id if ext.key in by_key else None,
                allowed=plan_refusal(ext, account.plan) is None,
            )
            for ext in catalog.EXTENSIONS
        ]


def enable(store: Store, actor: Actor, key: str) -> int:
    """Enable an extension; returns its integration id.

    The first time a native integration is enabled it gets its blueprint with
    the catalog's default fields, a managed API token (never shown) and its
    managed webhook. Enabling again after a disable restores what was there.
    """
    if not catalog.has_extension(key):
        raise NotFound(f"There is no extension {key!r} in the Marketplace.")
    ext = catalog.extension(key)
    with change(store, actor, f"enable {ext.name}") as c:
        s = c.s
        c.require_plan(ext.plan, plan_refusal(ext, c.account.plan))
        now = clock.now()
        integ = s.exec(
            select(Integration).where(
                Integration.account_id == actor.account_id, Integration.extension_key == key
            )
        ).first()
        if integ is not None and integ.enabled:
            return integ.id or 0
        first_time = integ is None
        if integ is None:
            integ = Integration(
                account_id=actor.account_id,
                extension_key=key,
                enabled=True,
                first_enabled_at=now,
                enabled_at=now,
                enabled_by=actor.login,
            )
        else:
            integ.enabled = True
            integ.enabled_at = now
            integ.enabled_by = actor.login
        s.add(integ)
        s.flush()
        if first_time and ext.native:
            _provision_native(s, actor, ext, integ)
        c.log(
            "extension.enable",
            "integration",
            integ.id,
            ext.name,
            "first enable" if first_time else "re-enabled; everything restored",
        )
        return integ.id or 0


def _provision_native(s: Session, actor: Actor, ext: Extension, integ: Integration) -> None:
    now = clock.now()
    bp = Blueprint(
        account_id=actor.account_id,
        integration_id=integ.id,
        name=ext.blueprint_name,
        description=f"Default fields synced from {ext.name}",
        native=True,
        created_at=now,
        created_by=actor.login,
    )
    s.add(bp)
    s.flush()
    for pos, spec in enumerate(ext.fields):
        s.add(
            BlueprintField(
                blueprint_id=bp.id,
                name=spec.name,
                description=spec.description,
                mapping_required=spec.mapping_required,
                position=pos,
                created_at=now,
            )
        )
    # The managed token is generated and immediately forgotten: only its hash is kept.
    secret = tokens_format.new_token()
    s.add(
        ApiToken(
            integration_id=integ.id,
            name=f"{ext.name} (managed)",
            token_hash=tokens_format.token_hash(secret),
            hint=tokens_format.hint(secret),
            managed=True,
            created_at=now,
            created_by=actor.login,
        )
    )
    del secret
    s.add(
        Webhook(
            integration_id=integ.id,
            url=catalog.managed_webhook_url(ext.key),
            event_types=",".join(ext.webhook_events),
            managed=True,
            created_at=now,
            created_by=actor.login,
            verified=True,
        )
    )


def disable(store: Store, actor: Actor, key: str) -> None:
    """Pause an integration: it leaves the list, tokens stop verifying,
    webhooks stop sending. Nothing is deleted."""
    if not catalog.has_extension(key):
        raise NotFound(f"There is no extension {key!r} in the Marketplace.")
    ext = catalog.extension(key)
    with change(store, actor, f"disable {ext.name}") as c:
        s = c.s
        integ = s.exec(
            select(Integration).where(
                Integration.account_id == actor.account_id, Integration.extension_key == key
            )
        ).first()
        if integ is None or not integ.enabled:
            return
        integ.enabled = False
        s.add(integ)
        c.log("extension.disable", "integration", integ.id, ext.name, "paused; nothing deleted")


# Every public function above refuses wrong-typed arguments before it runs.
validate.check_public(globals())
