"""Blueprints (containers of data fields used by an integration) and their fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from . import audit, catalog, clock, integrations, validate
from .accounts import Actor, require_manage
from .db import Store
from .errors import Conflict, LimitReached, NotFound, ValidationError
from .models import Account, Blueprint, BlueprintField, Integration, Playbook, PlaybookBlueprint
from .values import natural_key


@dataclass(frozen=True)
class BlueprintInfo:
    id: int
    integration_id: int
    integration_name: str
    name: str
    description: str
    native: bool
    field_count: int
    required_count: int
    playbook_count: int
    created_at: datetime
    created_by: str
    version: int
    # Its integration is suspended by the account's plan (catalog.suspended_by_plan's
    # words): nothing can be changed in it until the plan includes it again.
    suspended: str = ""


@dataclass(frozen=True)
class FieldInfo:
    id: int
    blueprint_id: int
    name: str
    description: str
    mapping_required: bool
    position: int
    version: int


@dataclass(frozen=True)
class BlueprintDetail:
    blueprint: BlueprintInfo
    fields: tuple[FieldInfo, ...]
    playbooks: tuple[str, ...]  # names of the playbooks it is connected to
    playbook_ids: tuple[int, ...] = ()  # their ids, in the same order


def _field(f: BlueprintField) -> FieldInfo:
    return FieldInfo(
        f.id or 0,
        f.blueprint_id or 0,
        f.name,
        f.description,
        f.mapping_required,
        f.position,
        f.version,
    )


def _infos(s: Session, account_id: int, *where) -> list[BlueprintInfo]:
    fields = (
        select(
            BlueprintField.blueprint_id,
            func.count().label("n"),
            func.sum(case((col(BlueprintField.mapping_required).is_(True), 1), else_=0)).label(
                "req"
            ),
        )
        .group_by(BlueprintField.blueprint_id)
        .subquery()
    )
    conns = (
        select(PlaybookBlueprint.blueprint_id, func.count().label("n"))
        .group_by(PlaybookBlueprint.blueprint_id)
        .subquery()
    )
    q = (
        select(
            Blueprint,
            Integration.extension_key,
            Integration.enabled,
            Account.plan,
            fields.c.n,
            fields.c.req,
            conns.c.n,
        )
        .join(Integration, Integration.id == Blueprint.integration_id)
        .join(Account, Account.id == Blueprint.account_id)
        .outerjoin(fields, fields.c.blueprint_id == Blueprint.id)
        .outerjoin(conns, conns.c.blueprint_id == Blueprint.id)
        .where(Blueprint.account_id == account_id, *where)
        .order_by(col(Blueprint.native).desc(), func.lower(Blueprint.name))
    )
    out = []
    for bp, key, enabled, plan, n, req, pn in s.exec(q).all():
        out.append(
            BlueprintInfo(
                id=bp.id or 0,
                integration_id=bp.integration_id or 0,
                integration_name=catalog.extension(key).name,
                name=bp.name,
                description=bp.description,
                native=bp.native,
                field_count=int(n or 0),
                required_count=int(req or 0),
                playbook_count=int(pn or 0),
                created_at=bp.created_at,
                created_by=bp.created_by,
                version=bp.version,
                suspended=(catalog.suspended_by_plan(key, plan) or "") if enabled else "",
            )
        )
    # Native first, then by name as people read it ("Blueprint 2" before "Blueprint 10").
    out.sort(key=lambda b: (not b.native, natural_key(b.name), b.id))
    return out


def for_integration(store: Store, account_id: int, integration_id: int) -> list[BlueprintInfo]:
    """The blueprints of one integration with field and playbook counts (one query)."""
    with store.read() as s:
        return _infos(s, account_id, Blueprint.integration_id == integration_id)


def all_for_account(store: Store, account_id: int) -> list[BlueprintInfo]:
    """Every blueprint of the account, of enabled integrations first by name."""
    with store.read() as s:
        return _infos(s, account_id)


def detail(store: Store, account_id: int, blueprint_id: int) -> BlueprintDetail:
    with store.read() as s:
        found = _infos(s, account_id, Blueprint.id == blueprint_id)
        if not found:
            raise NotFound("That blueprint no longer exists.")
        fields = s.exec(
            select(BlueprintField)
            .where(BlueprintField.blueprint_id == blueprint_id)
            .order_by(col(BlueprintField.position), col(BlueprintField.id))
        ).all()
        playbooks = sorted(
            s.exec(
                select(Playbook.id, Playbook.name)
                .join(PlaybookBlueprint, PlaybookBlueprint.playbook_id == Playbook.id)
                .where(PlaybookBlueprint.blueprint_id == blueprint_id)
            ).all(),
            key=lambda row: (natural_key(row[1]), row[0]),
        )
        return BlueprintDetail(
            found[0],
            tuple(_field(f) for f in fields),
            tuple(name for _, name in playbooks),
            tuple(pid or 0 for pid, _ in playbooks),
        )


# -- changes -------------------------------------------------------------------


def _custom_integration(s: Session, actor: Actor, integration_id: int) -> Integration:
    return integrations.custom_for_change(
        s,
        actor.account_id,
        integration_id,
        "its blueprint is created and synced automatically. "
        "Custom blueprints belong to the Custom integration.",
    )


def _editable(s: Session, actor: Actor, blueprint_id: int) -> Blueprint:
    bp = s.get(Blueprint, blueprint_id)
    if bp is None or bp.account_id != actor.account_id:
        raise NotFound("That blueprint no longer exists.")
    if bp.native:
        raise Conflict(
            f"{bp.name!r} is synced from a native integration: its fields are read-only here."
        )
    integ = s.get(Integration, bp.integration_id)
    if integ is not None and not integ.enabled:
        raise Conflict("The integration is disabled: enable it in the Marketplace first.")
    if integ is not None:
        integrations.refuse_if_suspended(s, integ)
    return bp


def _name_taken(s: Session, account_id: int, name: str, except_id: int | None = None) -> bool:
    q = select(Blueprint.id).where(
        Blueprint.account_id == account_id, func.lower(Blueprint.name) == name.lower()
    )
    if except_id is not None:
        q = q.where(Blueprint.id != except_id)
    return s.exec(q).first() is not None


def create(
    store: Store, actor: Actor, integration_id: int, *, name: str, description: str = ""
) -> BlueprintInfo:
    """Create a custom blueprint. Names are unique in the account (case-insensitive),
    1-100 characters; the account's limit of custom blueprints holds."""
    name = validate.name(name)
    description = validate.text(description)
    try:
        with store.write(actor.account_id) as s:
            account = require_manage(s, actor, "create blueprints")
            _custom_integration(s, actor, integration_id)
            used = s.exec(
                select(func.count())
                .select_from(Blueprint)
                .where(Blueprint.account_id == actor.account_id, col(Blueprint.native).is_(False))
            ).one()
            if used >= account.limit_custom_blueprints:
                raise LimitReached(
                    "Custom blueprints",
                    account.limit_custom_blueprints,
                    f"This account already has {used} of {account.limit_custom_blueprints} "
                    "custom blueprints: delete one or ask your operator to raise the limit.",
                )
            if _name_taken(s, actor.account_id, name):
                raise ValidationError("name", f"A blueprint named {name!r} already exists.")
            bp = Blueprint(
                account_id=actor.account_id,
                integration_id=integration_id,
                name=name,
                description=description,
                native=False,
                created_at=clock.now(),
                created_by=actor.login,
            )
            s.add(bp)
            s.flush()
            audit.record(
                s,
                account_id=actor.account_id,
                actor=actor.login,
                action="blueprint.create",
                object_type="blueprint",
                object_id=bp.id,
                object_name=name,
            )
            return _infos(s, actor.account_id, Blueprint.id == bp.id)[0]
    except IntegrityError:
        raise ValidationError("name", f"A blueprint named {name!r} already exists.") from None


def update(
    store: Store,
    actor: Actor,
    blueprint_id: int,
    *,
    name: str,
    description: str = "",
    version: int | None = None,
) -> BlueprintInfo:
    """Rename or re-describe a custom blueprint. With ``version``, a change made
    meanwhile by someone else is refused (Conflict) instead of overwritten."""
    name = validate.name(name)
    description = validate.text(description)
    try:
        with store.write(actor.account_id) as s:
            require_manage(s, actor, "change blueprints")
            bp = _editable(s, actor, blueprint_id)
            if version is not None and bp.version != version:
                raise Conflict(
                    f"{bp.name!r} was changed by someone else meanwhile; reopen it to see "
                    "the latest version."
                )
            if _name_taken(s, actor.account_id, name, except_id=bp.id):
                raise ValidationError("name", f"A blueprint named {name!r} already exists.")
            before = bp.name
            bp.name, bp.description, bp.version = name, description, bp.version + 1
            s.add(bp)
            audit.record(
                s,
                account_id=actor.account_id,
                actor=actor.login,
                action="blueprint.update",
                object_type="blueprint",
                object_id=bp.id,
                object_name=name,
                detail=f"renamed from {before!r}" if before != name else "description changed",
            )
            s.flush()
            return _infos(s, actor.account_id, Blueprint.id == bp.id)[0]
    except IntegrityError:
        raise ValidationError("name", f"A blueprint named {name!r} already exists.") from None


def delete(store: Store, actor: Actor, blueprint_id: int) -> None:
    """Delete a custom blueprint and its fields; refused while connected to playbooks."""
    with store.write(actor.account_id) as s:
        require_manage(s, actor, "delete blueprints")
        bp = _editable(s, actor, blueprint_id)
        playbooks = sorted(
            s.exec(
                select(Playbook.name)
                .join(PlaybookBlueprint, PlaybookBlueprint.playbook_id == Playbook.id)
                .where(PlaybookBlueprint.blueprint_id == blueprint_id)
            ).all(),
            key=natural_key,
        )
        if playbooks:
            names = ", ".join(repr(p) for p in playbooks)
            raise Conflict(
                f"{bp.name!r} is connected to {len(playbooks)} playbook"
                f"{'s' if len(playbooks) != 1 else ''}: {names}. Disconnect it first."
            )
        name = bp.name
        # Its fields (and their mappings) go with it: ON DELETE CASCADE.
        s.delete(bp)
        audit.record(
            s,
            account_id=actor.account_id,
            actor=actor.login,
            action="blueprint.delete",
            object_type="blueprint",
            object_id=blueprint_id,
            object_name=name,
        )


# -- fields --------------------------------------------------------------------


def _field_name_taken(s: Session, blueprint_id: int, name: str, except_id: int | None = None):
    q = select(BlueprintField.id).where(
        BlueprintField.blueprint_id == blueprint_id,
        func.lower(BlueprintField.name) == name.lower(),
    )
    if except_id is not None:
        q = q.where(BlueprintField.id != except_id)
    return s.exec(q).first() is not None


def add_field(
    store: Store,
    actor: Actor,
    blueprint_id: int,
    *,
    name: str,
    description: str = "",
    mapping_required: bool = False,
) -> FieldInfo:
    """Add a field; its name is unique within the blueprint."""
    name = validate.name(name)
    description = validate.text(description)
    if not isinstance(mapping_required, bool):
        raise ValidationError("mapping_required", "Mapping required must be yes or no.")
    try:
        with store.write(actor.account_id) as s:
            require_manage(s, actor, "add blueprint fields")
            bp = _editable(s, actor, blueprint_id)
            if _field_name_taken(s, blueprint_id, name):
                raise ValidationError("name", f"{bp.name!r} already has a field named {name!r}.")
            last = s.exec(
                select(func.max(BlueprintField.position)).where(
                    BlueprintField.blueprint_id == blueprint_id
                )
            ).one()
            f = BlueprintField(
                blueprint_id=blueprint_id,
                name=name,
                description=description,
                mapping_required=mapping_required,
                position=(last or 0) + 1,
                created_at=clock.now(),
            )
            s.add(f)
            s.flush()
            audit.record(
                s,
                account_id=actor.account_id,
                actor=actor.login,
                action="field.create",
                object_type="blueprint_field",
                object_id=f.id,
                object_name=f"{bp.name} / {name}",
                detail="mapping required" if mapping_required else "",
            )
            return _field(f)
    except IntegrityError:
        raise ValidationError("name", f"A field named {name!r} already exists here.") from None


def update_field(
    store: Store,
    actor: Actor,
    field_id: int,
    *,
    name: str,
    description: str = "",
    mapping_required: bool = False,
    version: int | None = None,
) -> FieldInfo:
    """Change a field. With ``version``, a concurrent change is refused (Conflict)."""
    name = validate.name(name)
    description = validate.text(description)
    try:
        with store.write(actor.account_id) as s:
            require_manage(s, actor, "change blueprint fields")
            f = s.get(BlueprintField, field_id)
            if f is None:
                raise NotFound("That field no longer exists.")
            bp = _editable(s, actor, f.blueprint_id or 0)
            if version is not None and f.version != version:
                raise Conflict(
                    f"The field {f.name!r} was changed by someone else meanwhile; reopen it "
                    "to see the latest version."
                )
            if _field_name_taken(s, bp.id or 0, name, except_id=f.id):
                raise ValidationError("name", f"{bp.name!r} already has a field named {name!r}.")
            f.name, f.description = name, description
            f.mapping_required, f.version = mapping_required, f.version + 1
            s.add(f)
            audit.record(
                s,
                account_id=actor.account_id,
                actor=actor.login,
                action="field.update",
                object_type="blueprint_field",
                object_id=f.id,
                object_name=f"{bp.name} / {name}",
                detail=f"mapping required: {'yes' if mapping_required else 'no'}",
            )
            s.flush()
            return _field(f)
    except IntegrityError:
        raise ValidationError("name", f"A field named {name!r} already exists here.") from None


def delete_field(store: Store, actor: Actor, field_id: int) -> None:
    """Delete a field; its mappings in playbooks go with it."""
    with store.write(actor.account_id) as s:
        require_manage(s, actor, "delete blueprint fields")
        f = s.get(BlueprintField, field_id)
        if f is None:
            raise NotFound("That field no longer exists.")
        bp = _editable(s, actor, f.blueprint_id or 0)
        label = f"{bp.name} / {f.name}"
        s.delete(f)
        audit.record(
            s,
            account_id=actor.account_id,
            actor=actor.login,
            action="field.delete",
            object_type="blueprint_field",
            object_id=field_id,
            object_name=label,
        )


# Every public function above refuses wrong-typed arguments before it runs.
validate.check_public(globals())
