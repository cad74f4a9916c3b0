"""The Integrations list and each integration's details."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from . import catalog, validate
from .db import Store
from .errors import Conflict, NotFound, PlanRequired
from .models import Account, ApiToken, Blueprint, Integration, Webhook
from .refusals import native_integration_refusal
from .values import IntegrationInfo, integration_infos


def _count_of(model, integration_id, *where):
    """How many rows of ``model`` an integration has, as a column of the list's
    one query (a correlated subquery: no round trip of its own)."""
    return (
        select(func.count())
        .select_from(model)
        .where(model.integration_id == integration_id, *where)
        .correlate(Integration)
        .scalar_subquery()
    )


def _infos(
    store: Store, account_id: int, *, only_id: int | None = None, active_only: bool = True
) -> list[IntegrationInfo]:
    with store.read() as s:
        # The account's plan and the counts ride along (the plan says which are
        # suspended): one query, one round trip.
        q = (
            select(
                Integration,
                Account.plan,
                _count_of(Blueprint, Integration.id),
                _count_of(ApiToken, Integration.id, col(ApiToken.revoked_at).is_(None)),
                _count_of(Webhook, Integration.id),
            )
            .join(Account, Account.id == Integration.account_id)
            .where(Integration.account_id == account_id)
        )
        if only_id is not None:
            q = q.where(Integration.id == only_id)
        if active_only:
            q = q.where(col(Integration.enabled).is_(True))
        found = s.exec(q).all()
    rows = [r for r, *_ in found]
    plan = found[0][1] if found else catalog.PLANS[-1]  # no rows: nothing to suspend
    bps = {r.id or 0: int(n) for r, _, n, _, _ in found}
    toks = {r.id or 0: int(n) for r, _, _, n, _ in found}
    hooks = {r.id or 0: int(n) for r, _, _, _, n in found}
    return integration_infos(
        (
            (r.id or 0, r.extension_key, r.enabled, r.first_enabled_at, r.enabled_at, r.enabled_by)
            for r in rows
        ),
        bps,
        toks,
        hooks,
        plan,
    )


def active(store: Store, account_id: int) -> list[IntegrationInfo]:
    """The enabled integrations, in Marketplace order."""
    return _infos(store, account_id)


def get(store: Store, account_id: int, integration_id: int) -> IntegrationInfo:
    found = _infos(store, account_id, only_id=integration_id, active_only=False)
    if not found:
        raise NotFound("That integration does not exist.")
    return found[0]


def custom_for_change(s: Session, account_id: int, integration_id: int, native_reason: str):
    """The enabled Custom integration an administrator is changing (inside a write).

    Refuses an unknown integration, a native one (``native_reason`` says what
    the native integration does instead) and a disabled one.
    """
    integ = s.get(Integration, integration_id)
    if integ is None or integ.account_id != account_id:
        raise NotFound("That integration does not exist.")
    ext = catalog.extension(integ.extension_key)
    refusal = native_integration_refusal(ext.name, ext.native, native_reason)
    if refusal:
        raise Conflict(refusal)
    if not integ.enabled:
        raise Conflict(f"{ext.name} is disabled: enable it in the Marketplace first.")
    refuse_if_suspended(s, integ)
    return integ


def refuse_if_suspended(s: Session, integ: Integration) -> None:
    """Refuse (PlanRequired, with catalog.suspended_by_plan's words) anything that
    would run or change under an integration the account's plan does not include.

    Called wherever a change, a send or a connection loads its integration, right
    after the "disabled" check: a suspended integration behaves as a disabled one.
    (Inside a transaction that has usually read the account already, so no extra
    round trip.)
    """
    account = s.get(Account, integ.account_id)
    if account is None:
        raise NotFound("The account no longer exists.")
    words = catalog.suspended_by_plan(integ.extension_key, account.plan)
    if words:
        raise PlanRequired(catalog.extension(integ.extension_key).plan, words)


# Every public function above refuses wrong-typed arguments before it runs.
validate.check_public(globals())
