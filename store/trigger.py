"""``integrations-admin trigger``: a sample event through the real outbox, for the
people who build a receiver (like a payment platform's CLI trigger).

A trigger is an event like any other (``store.outbox.emit``): it is written with
one pending delivery per chosen webhook in one change, with its audit entry,
and the dispatcher sends it with its retries; only its payload says it is a
sample. Chosen webhooks: the one given (``webhook_id``), or every webhook of an
integration (``integration``: its name or key) that receives the type, or
every webhook of the account that receives it. A webhook given that would not
receive the type (paused, disabled, its integration off, its event filter)
is refused with the reason, as is a choice that reaches no webhook: a trigger
never does nothing silently.

``--contract ID`` puts a contract of the account in the event (its id is in
the body, as the platform's own events); without one the body's contract id
is 0 (a sample).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlmodel import col, select

from . import catalog, outbox, validate
from .accounts import Actor
from .change import change
from .db import Store
from .errors import NotFound, ValidationError
from .models import Account, Contract, EventDelivery, Integration, Webhook
from .webhooks import EVENT_TYPES, audit_url, events_of

# Every event type the platform sends: the webhooks' filter's types, then those
# only the integration API's contracts produce (store.contracts.EVENTS).
PLATFORM_EVENTS: Final[tuple[str, ...]] = (*EVENT_TYPES, "contract:create")


@dataclass(frozen=True)
class TriggeredDelivery:
    webhook_id: int
    url: str  # as the audit log shows it (no query string)
    callback_id: str


@dataclass(frozen=True)
class Triggered:
    """What a trigger wrote: the event and one delivery per webhook."""

    event_id: int
    event_type: str
    contract_id: int | None
    deliveries: tuple[TriggeredDelivery, ...]


def unknown_type(event_type: str) -> str | None:
    """The refusal of an event type the platform does not have, or None."""
    if event_type in PLATFORM_EVENTS:
        return None
    return f"There is no event type {event_type!r}. The platform's event types: " + ", ".join(
        PLATFORM_EVENTS
    )


def trigger(
    store: Store,
    actor: Actor,
    event_type: str,
    *,
    webhook_id: int | None = None,
    integration: str | None = None,
    contract_id: int | None = None,
) -> Triggered:
    """Queue a sample ``event_type`` for the chosen webhooks (see the module's
    notes), in one change with its audit entry."""
    refusal = unknown_type(event_type)
    if refusal is not None:
        raise ValidationError("event", refusal)
    if webhook_id is not None and integration is not None:
        raise ValidationError("webhook", "Give a webhook or an integration, not both.")
    with change(store, actor, "trigger events") as c:
        s = c.s
        account_id = actor.account_id
        contract_name = ""
        if contract_id is not None:
            contract = s.get(Contract, contract_id)
            if contract is None or contract.account_id != account_id:
                raise NotFound(f"There is no contract {contract_id} in this account.")
            contract_name = contract.name
        receiving = outbox.subscribed_webhooks(s, account_id, event_type)
        if webhook_id is not None:
            why = _why_not(s, account_id, webhook_id, event_type)
            if why is None and webhook_id not in receiving:  # the rule is the outbox's
                why = f"Webhook {webhook_id} does not receive {event_type} now."
            if why is not None:
                raise ValidationError("webhook", why)
            chosen = [webhook_id]
            integration_id = s.get(Webhook, webhook_id).integration_id  # type: ignore[union-attr]
        elif integration is not None:
            integ = _integration(s, account_id, integration)
            integration_id = integ.id
            ids = set(s.exec(select(Webhook.id).where(Webhook.integration_id == integ.id)).all())
            chosen = [w for w in receiving if w in ids]
            if not chosen:
                name = catalog.extension(integ.extension_key).name
                raise ValidationError(
                    "integration",
                    f"No webhook of {name} receives {event_type} now (none, or each one "
                    "paused, disabled or filtering it out): see its Webhooks tab.",
                )
        else:
            chosen = receiving
            integration_id = None
            if not chosen:
                raise ValidationError(
                    "event",
                    f"No webhook of this account receives {event_type} now: create one on "
                    "an integration's Webhooks tab, or resume one, or add the type to its "
                    "events.",
                )
        emitted = outbox.emit(
            c,
            event_type,
            {
                "sample": True,
                "trigger": actor.login,
                "contract": {"id": contract_id or 0, "name": contract_name},
            },
            integration_id=integration_id,
            contract_id=contract_id,
            only=chosen,
        )
        rows = s.exec(
            select(EventDelivery.webhook_id, EventDelivery.callback_id, Webhook.url)
            .join(Webhook, Webhook.id == EventDelivery.webhook_id)
            .where(EventDelivery.event_id == emitted.event_id)
            .order_by(col(EventDelivery.webhook_id))
        ).all()
        made = tuple(TriggeredDelivery(w or 0, audit_url(url), cb) for w, cb, url in rows)
        c.log(
            "event.trigger",
            "event",
            emitted.event_id,
            event_type,
            f"a sample {event_type} queued for "
            + ", ".join(f"webhook {d.webhook_id}" for d in made)
            + (f" (contract {contract_id})" if contract_id is not None else ""),
        )
    return Triggered(emitted.event_id, event_type, contract_id, made)


def _why_not(s, account_id: int, webhook_id: int, event_type: str) -> str | None:
    """Why webhook ``webhook_id`` would not receive ``event_type``, in words."""
    row = s.exec(
        select(Webhook, Integration.extension_key, Integration.enabled, Account.plan)
        .join(Integration, Integration.id == Webhook.integration_id)
        .join(Account, Account.id == Integration.account_id)
        .where(Webhook.id == webhook_id, Integration.account_id == account_id)
    ).first()
    if row is None:
        return f"There is no webhook {webhook_id} in this account."
    w, key, enabled, plan = row
    name = catalog.extension(key).name
    if w.managed:
        return (
            f"Webhook {webhook_id} is managed by {name}: the platform sends its events, "
            "a trigger does not."
        )
    if w.disabled_at is not None:
        return (
            f"Webhook {webhook_id} was disabled ({w.disabled_reason or 'automatically'}): "
            "enable it first (E on its integration's Webhooks tab)."
        )
    if w.paused:
        return f"Webhook {webhook_id} is paused: resume it first (P on the Webhooks tab)."
    if not enabled:
        return f"Its integration, {name}, is disabled: enable it in the Marketplace first."
    suspended = catalog.suspended_by_plan(key, plan)
    if suspended:
        return suspended
    events = events_of(w.event_types)
    if events and event_type not in events:
        return (
            f"Webhook {webhook_id} does not take {event_type}: its events are "
            + ", ".join(events)
            + " (e on the Webhooks tab edits them)."
        )
    return None


def _integration(s, account_id: int, name: str) -> Integration:
    wanted = name.strip().casefold()
    rows = s.exec(
        select(Integration).where(Integration.account_id == account_id).order_by(Integration.id)
    ).all()
    for integ in rows:
        ext = catalog.extension(integ.extension_key)
        if wanted in (ext.name.casefold(), integ.extension_key.casefold()):
            return integ
    names = ", ".join(catalog.extension(i.extension_key).name for i in rows) or "none"
    raise NotFound(f"No integration called {name!r} in this account (its integrations: {names}).")


# Every public function above refuses wrong-typed arguments before it runs.
validate.check_public(globals())
