"""Blueprints (containers of data fields used by an integration) and their fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case
from sqlmodel import Session, col, func, select

from . import catalog, clock, integrations, validate
from .accounts import Actor
from .change import Change, change
from .db import Store
from .errors import Conflict, NotFound, ValidationError
from .models import Account, Blueprint, BlueprintField, Integration, Playbook, PlaybookBlueprint
from .refusals import NATIVE_BLUEPRINTS, blueprint_delete_refusal, read_only_blueprint_refusal
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

    @property
    def list_key(self) -> tuple[bool, tuple[tuple[object, ...], str], int]:
        """Where lists put it: native first, then by name as people read it
        ("Blueprint 2" before "Blueprint 10")."""
        return (not self.native, natural_key(self.name), self.id)


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


def infos_where(s: Session, account_id: int, *where) -> list[BlueprintInfo]:
    """The account's blueprints matching the SQL conditions ``where``, with their
    field, required-field and playbook counts, in one query (the caller's session)."""
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
    return sorted((_info(*row) for row in s.exec(q).all()), key=lambda b: b.list_key)


def _info(
    bp: Blueprint, key: str, enabled: bool, plan: str, n: Any, req: Any, pn: Any
) -> BlueprintInfo:
    """A blueprint as the lists show it: with its integration's key and state, the
    account's plan, and its field, required-field and playbook counts."""
    return BlueprintInfo(
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


def for_integration(store: Store, account_id: int, integration_id: int) -> list[BlueprintInfo]:
    """The blueprints of one integration with field and playbook counts (one query)."""
    with store.read() as s:
        return infos_where(s, account_id, Blueprint.integration_id == integration_id)


def all_for_account(store: Store, account_id: int) -> list[BlueprintInfo]:
    """Every blueprint of the account, of enabled integrations first by name."""
    with store.read() as s:
        return infos_where(s, account_id)


def detail(store: Store, account_id: int, blueprint_id: int) -> BlueprintDetail:
    with store.read() as s:
        found = infos_where(s, account_id, Blueprint.id == blueprint_id)
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
        NATIVE_BLUEPRINTS,
    )


def _editable(s: Session, actor: Actor, blueprint_id: int) -> Blueprint:
    bp = s.get(Blueprint, blueprint_id)
    if bp is None or bp.account_id != actor.account_id:
        raise NotFound("That blueprint no longer exists.")
    refusal = read_only_blueprint_refusal(bp.name, bp.native)
    if refusal:
        raise Conflict(refusal)
    integ = s.get(Integration, bp.integration_id)
    if integ is not None and not integ.enabled:
        raise Conflict("The integration is disabled: enable it in the Marketplace first.")
    if integ is not None:
        integrations.refuse_if_suspended(s, integ)
    return bp


def create(
    store: Store, actor: Actor, integration_id: int, *, name: str, description: str = ""
) -> BlueprintInfo:
    """Create a custom blueprint. Names are unique in the account (case-insensitive),
    1-100 characters; the account's limit of custom blueprints holds."""
    name = validate.name(name)
    description = validate.text(description)
    with change(store, actor, "create blueprints") as c:
        s = c.s
        # The integration, the limit's count and the name's check in one statement
        # (one round trip): the integration lands in the session, where
        # _custom_integration finds it and refuses as it always does.
        mine = Blueprint.account_id == actor.account_id
        used_q = (
            select(func.coalesce(func.sum(case((col(Blueprint.native).is_(False), 1), else_=0)), 0))
            .where(mine)
            .scalar_subquery()
        )
        taken_q = (
            select(func.count())
            .where(mine, func.lower(Blueprint.name) == name.lower())
            .scalar_subquery()
        )
        found = s.exec(
            select(Integration, used_q, taken_q).where(
                Integration.id == integration_id, Integration.account_id == actor.account_id
            )
        ).first()
        integ = _custom_integration(s, actor, integration_id)
        used, taken = (found[1], found[2]) if found is not None else (0, 0)
        c.within_limit(int(used), c.account.limit_custom_blueprints, "custom blueprints")
        c.unique(bool(taken), "name", _taken(name))
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
        c.log("blueprint.create", "blueprint", bp.id, name)
        # As a list would read it (no fields, no playbooks yet), without reading it.
        return _info(bp, integ.extension_key, integ.enabled, c.account.plan, 0, 0, 0)


def _taken(name: str) -> str:
    return f"A blueprint named {name!r} already exists."


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
    with change(store, actor, "change blueprints") as c:
        s = c.s
        bp = _editable(s, actor, blueprint_id)
        c.unchanged_since(bp, version, repr(bp.name))
        c.unique_name(
            Blueprint, Blueprint.account_id == actor.account_id, name, _taken(name), except_id=bp.id
        )
        before = bp.name
        bp.name, bp.description = name, description
        s.add(bp)
        c.log(
            "blueprint.update",
            "blueprint",
            bp.id,
            name,
            f"renamed from {before!r}" if before != name else "description changed",
        )
        s.flush()
        return infos_where(s, actor.account_id, Blueprint.id == bp.id)[0]


def _connected_playbooks(s: Session, blueprint_id: int) -> list[str]:
    return sorted(
        s.exec(
            select(Playbook.name)
            .join(PlaybookBlueprint, PlaybookBlueprint.playbook_id == Playbook.id)
            .where(PlaybookBlueprint.blueprint_id == blueprint_id)
        ).all(),
        key=natural_key,
    )


def delete(store: Store, actor: Actor, blueprint_id: int) -> None:
    """Delete a custom blueprint and its fields; refused while connected to playbooks
    (``refusals.blueprint_delete_refusal``)."""
    with change(store, actor, "delete blueprints") as c:
        bp = _editable(c.s, actor, blueprint_id)
        refusal = blueprint_delete_refusal(bp.name, _connected_playbooks(c.s, blueprint_id))
        if refusal:
            raise Conflict(refusal)
        name = bp.name
        # Its fields (and their mappings) go with it: ON DELETE CASCADE.
        c.s.delete(bp)
        c.log("blueprint.delete", "blueprint", blueprint_id, name)


# -- fields --------------------------------------------------------------------


def _field_unique(c: Change, bp: Blueprint, name: str, except_id: int | None = None) -> None:
    c.unique_name(
        BlueprintField,
        BlueprintField.blueprint_id == bp.id,
        name,
        f"{bp.name!r} already has a field named {name!r}.",
        except_id=except_id,
        race=f"A field named {name!r} already exists here.",
    )


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
    with change(store, actor, "add blueprint fields") as c:
        s = c.s
        bp = _editable(s, actor, blueprint_id)
        _field_unique(c, bp, name)
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
        c.log(
            "field.create",
            "blueprint_field",
            f.id,
            f"{bp.name} / {name}",
            "mapping required" if mapping_required else "",
        )
        return _field(f)


def _get_field(c: Change, actor: Actor, field_id: int) -> tuple[BlueprintField, Blueprint]:
    f = c.s.get(BlueprintField, field_id)
    if f is None:
        raise NotFound("That field no longer exists.")
    return f, _editable(c.s, actor, f.blueprint_id or 0)


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
    with change(store, actor, "change blueprint fields") as c:
        f, bp = _get_field(c, actor, field_id)
        c.unchanged_since(f, version, f"The field {f.name!r}")
        _field_unique(c, bp, name, except_id=f.id)
        f.name, f.description, f.mapping_required = name, description, mapping_required
        c.s.add(f)
        c.log(
            "field.update",
            "blueprint_field",
            f.id,
            f"{bp.name} / {name}",
            f"mapping required: {'yes' if mapping_required else 'no'}",
        )
        c.s.flush()
        return _field(f)


def delete_field(store: Store, actor: Actor, field_id: int) -> None:
    """Delete a field; its mappings in playbooks go with it."""
    with change(store, actor, "delete blueprint fields") as c:
        f, bp = _get_field(c, actor, field_id)
        label = f"{bp.name} / {f.name}"
        c.s.delete(f)
        c.log("field.delete", "blueprint_field", field_id, label)


# Every public function above refuses wrong-typed arguments before it runs.
validate.check_public(globals())
