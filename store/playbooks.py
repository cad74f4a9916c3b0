"""Playbooks: containers of the data fields that contract templates use,
connected to integration blueprints whose fields flow into those data fields.

The rules (DOMAIN.md, *Playbooks*), all held here under the account's write
lock (each change is a ``store.change``), so they hold when two administrators race:

- playbook names are unique in the account (case-insensitive, 1-100
  characters); at most ``account.limit_playbooks`` per account (default 100);
- data field names are unique in the playbook (case-insensitive); at most
  ``account.limit_data_fields`` per playbook (default 300);
- at most ``account.limit_connected_blueprints`` connected blueprints per
  playbook (default 5), each belonging to the account;
- a blueprint field maps to at most one data field per playbook (also a
  database constraint); a data field receives at most one field from each
  blueprint; a field can be mapped only while its blueprint is connected;
- a playbook is *complete* when every mapping-required field of every
  connected blueprint is mapped and none of those blueprints belongs to a
  disabled integration (a disabled one is paused: the playbook says it depends
  on it, and its mappings are read-only until it is enabled again).

Plan: creating and changing playbooks needs a paid plan (Essentials and up);
deleting (a playbook, a data field, a connection, a mapping) is allowed on any
plan, so an account moved down to Free can still clean up.

Every change needs the permission *Manage add-ons and integrations* and
writes an audit entry in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_
from sqlalchemy import delete as sql_delete
from sqlmodel import Session, col, func, select

from . import blueprints, catalog, clock, integrations, validate
from .accounts import Actor
from .blueprints import BlueprintInfo
from .change import Change, change
from .db import Store
from .errors import Conflict, LimitReached, NotFound
from .models import (
    Account,
    Blueprint,
    BlueprintField,
    DataField,
    Integration,
    Mapping,
    Playbook,
    PlaybookBlueprint,
)
from .values import natural_key

PLAN = catalog.PLAYBOOKS_PLAN  # the lowest plan that includes playbooks


# -- values returned -------------------------------------------------------------


@dataclass(frozen=True)
class PlaybookInfo:
    """A playbook with its usage against the account's limits."""

    id: int
    name: str
    description: str
    created_at: datetime
    created_by: str
    data_field_count: int
    connected_count: int
    missing_required_count: int
    limit_data_fields: int
    limit_connected_blueprints: int
    version: int = 1
    # Integrations of connected blueprints that are disabled (natural order):
    # nothing flows from them, their mappings are read-only.
    disabled_integrations: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return self.missing_required_count == 0 and not self.disabled_integrations


@dataclass(frozen=True)
class DataFieldInfo:
    id: int
    playbook_id: int
    name: str
    description: str
    default_value: str
    position: int
    version: int
    # The blueprint fields flowing into it, as "Blueprint / field", by blueprint name.
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConnectionInfo:
    """A blueprint connected to a playbook, with its mapping progress there."""

    blueprint_id: int
    blueprint_name: str
    integration_name: str
    native: bool
    integration_enabled: bool
    connected_at: datetime
    field_count: int
    required_count: int
    mapped_count: int
    missing_required_count: int

    @property
    def read_only_reason(self) -> str | None:
        """Why its mappings cannot change now (its integration is disabled), or None."""
        if self.integration_enabled:
            return None
        return disabled_message(self.blueprint_name, self.integration_name)


def disabled_message(blueprint_name: str, integration_name: str) -> str:
    """The refusal to change the mappings of a blueprint of a disabled integration."""
    return (
        f"{blueprint_name!r} belongs to {integration_name}, which is disabled: its mappings "
        f"are read-only until {integration_name} is enabled again in the Marketplace."
    )


def _names_and(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@dataclass(frozen=True)
class MappingRow:
    """One field of a connected blueprint and the data field it maps to (or None)."""

    blueprint_id: int
    blueprint_name: str
    field_id: int
    field_name: str
    field_description: str
    required: bool
    data_field_id: int | None
    data_field_name: str | None

    @property
    def missing(self) -> bool:
        """A required field with no data field: it keeps the playbook incomplete."""
        return self.required and self.data_field_id is None


@dataclass(frozen=True)
class MissingMapping:
    blueprint_id: int
    blueprint_name: str
    field_id: int
    field_name: str

    @property
    def label(self) -> str:
        return f"{self.blueprint_name} / {self.field_name}"


@dataclass(frozen=True)
class Completeness:
    """Whether a playbook is complete: every required field of every connected
    blueprint mapped, and no connected blueprint of a disabled integration
    (``disabled``: those integrations' names; nothing flows from them)."""

    complete: bool
    missing: tuple[MissingMapping, ...] = ()
    disabled: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        """What keeps the playbook incomplete, in one line (or "Complete")."""
        if self.complete:
            return "Complete: every required blueprint field is mapped."
        n = len(self.missing)
        names = ", ".join(m.label for m in self.missing)
        missing = f"{n} required field{'s' if n != 1 else ''} not mapped: {names}"
        if not self.disabled:
            return f"Incomplete: {missing}"
        one = len(self.disabled) == 1
        text = (
            f"Depends on {_names_and(self.disabled)}, which {'is' if one else 'are'} disabled: "
            f"{'its' if one else 'their'} mappings are read-only and nothing flows from "
            f"{'it' if one else 'them'} until {'it is' if one else 'they are'} enabled again."
        )
        return f"{text} Also {missing}" if self.missing else text


@dataclass(frozen=True)
class PlaybookDetail:
    playbook: PlaybookInfo
    data_fields: tuple[DataFieldInfo, ...]
    connections: tuple[ConnectionInfo, ...]
    # Every field of every connected blueprint, by blueprint name then field position.
    mappings: tuple[MappingRow, ...]

    @property
    def missing(self) -> tuple[MissingMapping, ...]:
        return tuple(
            MissingMapping(r.blueprint_id, r.blueprint_name, r.field_id, r.field_name)
            for r in self.mappings
            if r.missing
        )

    @property
    def disabled(self) -> tuple[str, ...]:
        """The disabled integrations of its connected blueprints (natural order)."""
        return _unique_names(
            c.integration_name for c in self.connections if not c.integration_enabled
        )

    @property
    def complete(self) -> bool:
        return not any(r.missing for r in self.mappings) and not self.disabled

    @property
    def completeness(self) -> Completeness:
        missing, disabled = self.missing, self.disabled
        return Completeness(not missing and not disabled, missing, disabled)


@dataclass(frozen=True)
class FromBlueprintResult:
    """What "create data fields from a blueprint" did.

    Only blueprint fields not yet mapped in the playbook are considered. For
    each, by name (case-insensitive):
    - no data field has that name: one is created (same name and description)
      and the blueprint field is mapped to it (``created``);
    - a data field has that name and receives nothing yet from this blueprint:
      the blueprint field is mapped to that existing data field
      (``mapped_to_existing``), nothing is created;
    - a data field has that name but already receives another field of this
      blueprint: the blueprint field is left unmapped (``skipped``), since a
      data field takes at most one field from each blueprint.
    """

    blueprint_name: str
    created: tuple[str, ...] = ()
    mapped_to_existing: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    data_field_ids: tuple[int, ...] = field(default=(), compare=False)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.mapped_to_existing)


# -- reading ---------------------------------------------------------------------


def _unique_names(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(names), key=natural_key))


def _infos(s: Session, account_id: int, playbook_id: int | None = None) -> list[PlaybookInfo]:
    """Playbooks with their counts in one query (aggregates restricted to one
    playbook when ``playbook_id`` is given)."""

    def only(q, column):
        return q.where(column == playbook_id) if playbook_id is not None else q

    dfs = only(
        select(DataField.playbook_id, func.count().label("n")), DataField.playbook_id
    ).group_by(DataField.playbook_id)
    dfs = dfs.subquery()
    conns = only(
        select(PlaybookBlueprint.playbook_id, func.count().label("n")),
        PlaybookBlueprint.playbook_id,
    ).group_by(PlaybookBlueprint.playbook_id)
    conns = conns.subquery()
    missing = only(
        select(PlaybookBlueprint.playbook_id, func.count().label("n"))
        .join(
            BlueprintField,
            and_(
                BlueprintField.blueprint_id == PlaybookBlueprint.blueprint_id,
                col(BlueprintField.mapping_required).is_(True),
            ),
        )
        .outerjoin(
            Mapping,
            and_(
                Mapping.playbook_id == PlaybookBlueprint.playbook_id,
                Mapping.blueprint_field_id == BlueprintField.id,
            ),
        )
        .where(col(Mapping.id).is_(None)),
        PlaybookBlueprint.playbook_id,
    ).group_by(PlaybookBlueprint.playbook_id)
    missing = missing.subquery()
    disabled = only(
        select(
            PlaybookBlueprint.playbook_id,
            func.aggregate_strings(Integration.extension_key, ",").label("ext_keys"),
        )
        .join(Blueprint, Blueprint.id == PlaybookBlueprint.blueprint_id)
        .join(Integration, Integration.id == Blueprint.integration_id)
        .where(col(Integration.enabled).is_(False)),
        PlaybookBlueprint.playbook_id,
    ).group_by(PlaybookBlueprint.playbook_id)
    disabled = disabled.subquery()
    q = (
        select(
            Playbook,
            Account.limit_data_fields,
            Account.limit_connected_blueprints,
            dfs.c.n,
            conns.c.n,
            missing.c.n,
            disabled.c.ext_keys,
        )
        .join(Account, Account.id == Playbook.account_id)
        .outerjoin(dfs, dfs.c.playbook_id == Playbook.id)
        .outerjoin(conns, conns.c.playbook_id == Playbook.id)
        .outerjoin(missing, missing.c.playbook_id == Playbook.id)
        .outerjoin(disabled, disabled.c.playbook_id == Playbook.id)
        .where(Playbook.account_id == account_id)
        .order_by(func.lower(Playbook.name), col(Playbook.id))
    )
    if playbook_id is not None:
        q = q.where(Playbook.id == playbook_id)
    infos = [
        PlaybookInfo(
            id=pb.id or 0,
            name=pb.name,
            description=pb.description,
            created_at=pb.created_at,
            created_by=pb.created_by,
            data_field_count=int(n_df or 0),
            connected_count=int(n_conn or 0),
            missing_required_count=int(n_miss or 0),
            limit_data_fields=lim_df,
            limit_connected_blueprints=lim_conn,
            version=pb.version,
            disabled_integrations=_unique_names(
                catalog.extension(k).name for k in (keys or "").split(",") if k
            ),
        )
        for pb, lim_df, lim_conn, n_df, n_conn, n_miss, keys in s.exec(q).all()
    ]
    # By name as people read it: "Playbook 2" before "Playbook 10".
    infos.sort(key=lambda p: (natural_key(p.name), p.id))
    return infos


def all_for_account(store: Store, account_id: int) -> list[PlaybookInfo]:
    """Every playbook of the account by name, with data field count, connected
    blueprint count and missing required mappings (one query)."""
    with store.read() as s:
        return _infos(s, account_id)


def get(store: Store, account_id: int, playbook_id: int) -> PlaybookInfo:
    """One playbook with its counts; NotFound if it is gone."""
    with store.read() as s:
        found = _infos(s, account_id, playbook_id)
    if not found:
        raise NotFound("That playbook no longer exists.")
    return found[0]


def _data_field(f: DataField, sources: tuple[str, ...] = ()) -> DataFieldInfo:
    return DataFieldInfo(
        id=f.id or 0,
        playbook_id=f.playbook_id or 0,
        name=f.name,
        description=f.description,
        default_value=f.default_value,
        position=f.position,
        version=f.version,
        sources=sources,
    )


def _mapping_rows_query(playbook_id: int, *where):
    return (
        select(
            Blueprint.id,
            Blueprint.name,
            BlueprintField.id,
            BlueprintField.name,
            BlueprintField.description,
            BlueprintField.mapping_required,
            DataField.id,
            DataField.name,
        )
        .select_from(PlaybookBlueprint)
        .join(Blueprint, Blueprint.id == PlaybookBlueprint.blueprint_id)
        .join(BlueprintField, BlueprintField.blueprint_id == Blueprint.id)
        .outerjoin(
            Mapping,
            and_(
                Mapping.playbook_id == PlaybookBlueprint.playbook_id,
                Mapping.blueprint_field_id == BlueprintField.id,
            ),
        )
        .outerjoin(DataField, DataField.id == Mapping.data_field_id)
        .where(PlaybookBlueprint.playbook_id == playbook_id, *where)
        .order_by(
            func.lower(Blueprint.name),
            col(Blueprint.id),
            col(BlueprintField.position),
            col(BlueprintField.id),
        )
    )


def _by_blueprint(rows: Sequence) -> list:
    """Rows that start (blueprint id, blueprint name, ...), by blueprint name as
    people read it; a stable sort keeps each blueprint's fields in their order."""
    return sorted(rows, key=lambda r: (natural_key(r[1]), r[0]))


def _detail(s: Session, account_id: int, playbook_id: int) -> PlaybookDetail:
    # Four queries whatever the size: the playbook, its data fields, its
    # connections, and every connected field with its mapping.
    head = s.exec(
        select(Playbook, Account.limit_data_fields, Account.limit_connected_blueprints)
        .join(Account, Account.id == Playbook.account_id)
        .where(Playbook.id == playbook_id, Playbook.account_id == account_id)
    ).first()
    if head is None:
        raise NotFound("That playbook no longer exists.")
    pb, lim_df, lim_conn = head
    fields = s.exec(
        select(DataField)
        .where(DataField.playbook_id == playbook_id)
        .order_by(col(DataField.position), col(DataField.id))
    ).all()
    conns = s.exec(
        select(
            PlaybookBlueprint.blueprint_id,
            PlaybookBlueprint.connected_at,
            Blueprint.name,
            Blueprint.native,
            Integration.extension_key,
            Integration.enabled,
        )
        .join(Blueprint, Blueprint.id == PlaybookBlueprint.blueprint_id)
        .join(Integration, Integration.id == Blueprint.integration_id)
        .where(PlaybookBlueprint.playbook_id == playbook_id)
    ).all()
    conns = sorted(conns, key=lambda c: (natural_key(c[2]), c[0]))
    rows = tuple(
        MappingRow(
            blueprint_id=bp_id,
            blueprint_name=bp_name,
            field_id=f_id,
            field_name=f_name,
            field_description=f_desc,
            required=bool(req),
            data_field_id=df_id,
            data_field_name=df_name,
        )
        for bp_id, bp_name, f_id, f_name, f_desc, req, df_id, df_name in _by_blueprint(
            s.exec(_mapping_rows_query(playbook_id)).all()
        )
    )
    sources: dict[int, list[str]] = {}
    per_bp: dict[int, list[int]] = {}  # blueprint id -> [fields, required, mapped, missing]
    for r in rows:
        if r.data_field_id is not None:
            sources.setdefault(r.data_field_id, []).append(f"{r.blueprint_name} / {r.field_name}")
        c = per_bp.setdefault(r.blueprint_id, [0, 0, 0, 0])
        c[0] += 1
        c[1] += r.required
        c[2] += r.data_field_id is not None
        c[3] += r.missing
    connections = tuple(
        ConnectionInfo(
            blueprint_id=bp_id or 0,
            blueprint_name=name,
            integration_name=catalog.extension(key).name,
            native=native,
            integration_enabled=enabled,
            connected_at=at,
            field_count=counts[0],
            required_count=counts[1],
            mapped_count=counts[2],
            missing_required_count=counts[3],
        )
        for bp_id, at, name, native, key, enabled in conns
        for counts in [per_bp.get(bp_id or 0, [0, 0, 0, 0])]
    )
    info = PlaybookInfo(
        id=pb.id or 0,
        name=pb.name,
        description=pb.description,
        created_at=pb.created_at,
        created_by=pb.created_by,
        data_field_count=len(fields),
        connected_count=len(connections),
        missing_required_count=sum(c.missing_required_count for c in connections),
        limit_data_fields=lim_df,
        limit_connected_blueprints=lim_conn,
        version=pb.version,
        disabled_integrations=_unique_names(
            c.integration_name for c in connections if not c.integration_enabled
        ),
    )
    return PlaybookDetail(
        playbook=info,
        data_fields=tuple(_data_field(f, tuple(sources.get(f.id or 0, ()))) for f in fields),
        connections=connections,
        mappings=rows,
    )


def detail(store: Store, account_id: int, playbook_id: int) -> PlaybookDetail:
    """Everything the playbook page shows: the playbook with its counts, its data
    fields (with the blueprint fields flowing into each), its connections and
    one mapping row per field of every connected blueprint. Four queries."""
    with store.read() as s:
        return _detail(s, account_id, playbook_id)


def completeness(store: Store, account_id: int, playbook_id: int) -> Completeness:
    """Whether the playbook is complete, and exactly which required fields of
    its connected blueprints are not mapped (blueprint name and field name)."""
    with store.read() as s:
        # The playbook (it exists) with the disabled integrations it depends on.
        found = s.exec(
            select(Playbook.id, Integration.extension_key, Integration.enabled)
            .outerjoin(PlaybookBlueprint, PlaybookBlueprint.playbook_id == Playbook.id)
            .outerjoin(Blueprint, Blueprint.id == PlaybookBlueprint.blueprint_id)
            .outerjoin(Integration, Integration.id == Blueprint.integration_id)
            .where(Playbook.id == playbook_id, Playbook.account_id == account_id)
        ).all()
        if not found:
            raise NotFound("That playbook no longer exists.")
        disabled = _unique_names(
            catalog.extension(key).name for _, key, enabled in found if key and not enabled
        )
        rows = s.exec(
            _mapping_rows_query(
                playbook_id,
                col(BlueprintField.mapping_required).is_(True),
                col(Mapping.id).is_(None),
            )
        ).all()
    missing = tuple(MissingMapping(r[0], r[1], r[2], r[3]) for r in _by_blueprint(rows))
    return Completeness(not missing and not disabled, missing, disabled)


def playbooks_made_incomplete(
    store: Store, account_id: int, blueprint_id: int, field_id: int | None = None
) -> tuple[str, ...]:
    """The playbooks that would miss a mapping if a field of ``blueprint_id``
    became *mapping required*: those connected to the blueprint where the field
    is not mapped (every connected one for a field not created yet:
    ``field_id`` None). Nothing when the field is required already. Names in
    natural order. Screens ask for a confirmation naming them before a field
    is created or edited as required."""
    with store.read() as s:
        if field_id is not None:
            f = s.get(BlueprintField, field_id)
            if f is None or f.blueprint_id != blueprint_id:
                raise NotFound("That blueprint field no longer exists.")
            if f.mapping_required:
                return ()
        q = (
            select(Playbook.id, Playbook.name)
            .join(PlaybookBlueprint, PlaybookBlueprint.playbook_id == Playbook.id)
            .where(
                PlaybookBlueprint.blueprint_id == blueprint_id, Playbook.account_id == account_id
            )
        )
        if field_id is not None:
            mapped = select(Mapping.playbook_id).where(Mapping.blueprint_field_id == field_id)
            q = q.where(col(Playbook.id).not_in(mapped))
        rows = s.exec(q).all()
    return tuple(name for _, name in sorted(rows, key=lambda r: (natural_key(r[1]), r[0])))


def mappings_count(store: Store, playbook_id: int, blueprint_id: int) -> int:
    """How many mappings disconnecting ``blueprint_id`` from the playbook would remove."""
    with store.read() as s:
        return _blueprint_mappings(s, playbook_id, blueprint_id)


def data_field_mappings_count(store: Store, data_field_id: int) -> int:
    """How many mappings deleting the data field would remove."""
    with store.read() as s:
        return int(
            s.exec(
                select(func.count())
                .select_from(Mapping)
                .where(Mapping.data_field_id == data_field_id)
            ).one()
        )


def connectable(store: Store, account_id: int, playbook_id: int) -> list[BlueprintInfo]:
    """Blueprints the playbook could connect to: the account's blueprints of
    enabled integrations that are not connected to it yet (one query), leaving
    out those of integrations suspended by the plan."""
    connected = select(PlaybookBlueprint.blueprint_id).where(
        PlaybookBlueprint.playbook_id == playbook_id
    )
    with store.read() as s:
        found = blueprints.infos_where(
            s,
            account_id,
            col(Blueprint.id).not_in(connected),
            col(Integration.enabled).is_(True),
        )
    return [b for b in found if not b.suspended]


def _blueprint_mappings(s: Session, playbook_id: int, blueprint_id: int) -> int:
    return int(
        s.exec(
            select(func.count())
            .select_from(Mapping)
            .join(BlueprintField, BlueprintField.id == Mapping.blueprint_field_id)
            .where(Mapping.playbook_id == playbook_id, BlueprintField.blueprint_id == blueprint_id)
        ).one()
    )


# -- checks shared by the changes ------------------------------------------------


def _require_plan(c: Change, doing: str) -> None:
    c.require_plan(PLAN, catalog.playbooks_refusal(c.account.plan, doing))


@contextmanager
def _change(store: Store, actor: Actor, doing: str) -> Iterator[Change]:
    """A change that playbooks' plan must allow: the permission, then the plan."""
    with change(store, actor, doing) as c:
        _require_plan(c, doing)
        yield c


def _taken(name: str) -> str:
    return f"A playbook named {name!r} already exists."


def _field_unique(c: Change, pb: Playbook, name: str, except_id: int | None = None) -> None:
    c.unique_name(
        DataField,
        DataField.playbook_id == pb.id,
        name,
        f"{pb.name!r} already has a data field named {name!r}.",
        except_id=except_id,
        race=f"A data field named {name!r} already exists here.",
    )


def _get_data_field(c: Change, actor: Actor, data_field_id: int) -> tuple[DataField, Playbook]:
    f = c.s.get(DataField, data_field_id)
    if f is None:
        raise NotFound("That data field no longer exists.")
    return f, _playbook(c.s, actor, f.playbook_id or 0)


def _playbook(s: Session, actor: Actor, playbook_id: int) -> Playbook:
    pb = s.get(Playbook, playbook_id)
    if pb is None or pb.account_id != actor.account_id:
        raise NotFound("That playbook no longer exists.")
    return pb


def _blueprint(s: Session, actor: Actor, blueprint_id: int) -> Blueprint:
    bp = s.get(Blueprint, blueprint_id)
    if bp is None or bp.account_id != actor.account_id:
        raise NotFound("That blueprint no longer exists.")
    return bp


def _require_enabled(s: Session, bp: Blueprint) -> None:
    """Mapping or unmapping a blueprint's fields needs its integration enabled:
    a disabled one is paused, its mappings kept as they are."""
    integ = s.get(Integration, bp.integration_id)
    if integ is not None and not integ.enabled:
        raise Conflict(disabled_message(bp.name, catalog.extension(integ.extension_key).name))


def _connection(s: Session, playbook_id: int, blueprint_id: int) -> PlaybookBlueprint | None:
    return s.exec(
        select(PlaybookBlueprint).where(
            PlaybookBlueprint.playbook_id == playbook_id,
            PlaybookBlueprint.blueprint_id == blueprint_id,
        )
    ).first()


def _count_data_fields(s: Session, playbook_id: int) -> int:
    return int(
        s.exec(
            select(func.count()).select_from(DataField).where(DataField.playbook_id == playbook_id)
        ).one()
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# -- playbooks -------------------------------------------------------------------


def create(store: Store, actor: Actor, *, name: str, description: str = "") -> PlaybookInfo:
    """Create a playbook. Names are unique in the account (case-insensitive);
    the account's limit of playbooks holds; needs the Essentials plan or higher."""
    name = validate.name(name)
    description = validate.text(description)
    with _change(store, actor, "create playbooks") as c:
        s = c.s
        used = int(
            s.exec(
                select(func.count())
                .select_from(Playbook)
                .where(Playbook.account_id == actor.account_id)
            ).one()
        )
        c.within_limit(used, c.account.limit_playbooks, "playbooks")
        c.unique_name(Playbook, Playbook.account_id == actor.account_id, name, _taken(name))
        pb = Playbook(
            account_id=actor.account_id,
            name=name,
            description=description,
            created_at=clock.now(),
            created_by=actor.login,
        )
        s.add(pb)
        s.flush()
        c.log("playbook.create", "playbook", pb.id, name)
        return _infos(s, actor.account_id, pb.id)[0]


def update(
    store: Store,
    actor: Actor,
    playbook_id: int,
    *,
    name: str,
    description: str = "",
    version: int | None = None,
) -> PlaybookInfo:
    """Rename or re-describe a playbook. With ``version`` (the one the editor
    started from), a change made meanwhile by someone else is refused (Conflict)."""
    name = validate.name(name)
    description = validate.text(description)
    with _change(store, actor, "change playbooks") as c:
        s = c.s
        pb = _playbook(s, actor, playbook_id)
        c.unchanged_since(pb, version, f"The playbook {pb.name!r}")
        c.unique_name(
            Playbook, Playbook.account_id == actor.account_id, name, _taken(name), except_id=pb.id
        )
        before = pb.name
        pb.name, pb.description = name, description
        s.add(pb)
        c.log(
            "playbook.update",
            "playbook",
            pb.id,
            name,
            f"renamed from {before!r}" if before != name else "description changed",
        )
        s.flush()
        return _infos(s, actor.account_id, pb.id)[0]


def delete(store: Store, actor: Actor, playbook_id: int) -> None:
    """Delete a playbook with its data fields, connections and mappings."""
    with change(store, actor, "delete playbooks") as c:
        s = c.s
        pb = _playbook(s, actor, playbook_id)
        name = pb.name
        n_maps = s.exec(sql_delete(Mapping).where(col(Mapping.playbook_id) == playbook_id)).rowcount
        n_conn = s.exec(
            sql_delete(PlaybookBlueprint).where(col(PlaybookBlueprint.playbook_id) == playbook_id)
        ).rowcount
        n_df = s.exec(
            sql_delete(DataField).where(col(DataField.playbook_id) == playbook_id)
        ).rowcount
        s.delete(pb)
        c.log(
            "playbook.delete",
            "playbook",
            playbook_id,
            name,
            f"with {_plural(n_df, 'data field')}, {_plural(n_conn, 'connected blueprint')} "
            f"and {_plural(n_maps, 'mapping')}",
        )


# -- data fields -----------------------------------------------------------------


def add_data_field(
    store: Store,
    actor: Actor,
    playbook_id: int,
    *,
    name: str,
    description: str = "",
    default_value: str = "",
) -> DataFieldInfo:
    """Add a data field; its name is unique in the playbook (case-insensitive)
    and the account's limit of data fields per playbook holds."""
    name = validate.name(name)
    description = validate.text(description)
    default_value = validate.text(default_value, field="default_value", what="Default value")
    with _change(store, actor, "add data fields") as c:
        s = c.s
        pb = _playbook(s, actor, playbook_id)
        used = _count_data_fields(s, playbook_id)
        c.within_limit(used, c.account.limit_data_fields, "data fields", holder=repr(pb.name))
        _field_unique(c, pb, name)
        last = s.exec(
            select(func.max(DataField.position)).where(DataField.playbook_id == playbook_id)
        ).one()
        f = DataField(
            playbook_id=playbook_id,
            name=name,
            description=description,
            default_value=default_value,
            position=(last or 0) + 1,
            created_at=clock.now(),
        )
        s.add(f)
        s.flush()
        c.log("data_field.create", "data_field", f.id, f"{pb.name} / {name}")
        return _data_field(f)


def _sources(s: Session, data_field_id: int) -> tuple[str, ...]:
    rows = s.exec(
        select(Blueprint.id, Blueprint.name, BlueprintField.name)
        .select_from(Mapping)
        .join(BlueprintField, BlueprintField.id == Mapping.blueprint_field_id)
        .join(Blueprint, Blueprint.id == BlueprintField.blueprint_id)
        .where(Mapping.data_field_id == data_field_id)
    ).all()
    return tuple(f"{b} / {f}" for _, b, f in _by_blueprint(rows))


def update_data_field(
    store: Store,
    actor: Actor,
    data_field_id: int,
    *,
    name: str,
    description: str = "",
    default_value: str = "",
    version: int | None = None,
) -> DataFieldInfo:
    """Change a data field. With ``version`` (the one the editor started from),
    a change made meanwhile by someone else is refused (Conflict)."""
    name = validate.name(name)
    description = validate.text(description)
    default_value = validate.text(default_value, field="default_value", what="Default value")
    with _change(store, actor, "change data fields") as c:
        s = c.s
        f, pb = _get_data_field(c, actor, data_field_id)
        c.unchanged_since(f, version, f"The data field {f.name!r}")
        _field_unique(c, pb, name, except_id=f.id)
        before = f.name
        f.name, f.description, f.default_value = name, description, default_value
        s.add(f)
        c.log(
            "data_field.update",
            "data_field",
            f.id,
            f"{pb.name} / {name}",
            f"renamed from {before!r}" if before != name else "changed",
        )
        s.flush()
        return _data_field(f, _sources(s, f.id or 0))


def delete_data_field(
    store: Store, actor: Actor, data_field_id: int, *, expected_mappings: int | None = None
) -> int:
    """Delete a data field and the mappings into it; returns how many mappings
    went. With ``expected_mappings`` (the count the administrator confirmed),
    a different count now is refused (Conflict) rather than removing more."""
    with change(store, actor, "delete data fields") as c:
        s = c.s
        f, pb = _get_data_field(c, actor, data_field_id)
        n = int(
            s.exec(
                select(func.count())
                .select_from(Mapping)
                .where(Mapping.data_field_id == data_field_id)
            ).one()
        )
        if expected_mappings is not None and n != expected_mappings:
            raise Conflict(
                f"The data field {f.name!r} now receives {_plural(n, 'mapping')}, not "
                f"{expected_mappings}: someone changed it meanwhile. Look again and retry."
            )
        s.exec(sql_delete(Mapping).where(col(Mapping.data_field_id) == data_field_id))
        label = f"{pb.name} / {f.name}"
        s.delete(f)
        c.log(
            "data_field.delete",
            "data_field",
            data_field_id,
            label,
            f"{_plural(n, 'mapping')} removed",
        )
        return n


# -- connections -----------------------------------------------------------------


def connect(store: Store, actor: Actor, playbook_id: int, blueprint_id: int) -> ConnectionInfo:
    """Connect one of the account's blueprints (of an enabled integration) to
    the playbook, within the limit of connected blueprints."""
    with _change(store, actor, "connect blueprints to playbooks") as c:
        s = c.s
        c.on_duplicate(Conflict("That blueprint is already connected to this playbook."))
        pb = _playbook(s, actor, playbook_id)
        bp = _blueprint(s, actor, blueprint_id)
        integ = s.get(Integration, bp.integration_id)
        if integ is not None and not integ.enabled:
            raise Conflict(
                f"{bp.name!r} belongs to {catalog.extension(integ.extension_key).name}, "
                "which is disabled: enable it in the Marketplace first."
            )
        if integ is not None:
            integrations.refuse_if_suspended(s, integ)
        if _connection(s, playbook_id, blueprint_id) is not None:
            raise Conflict(f"{bp.name!r} is already connected to {pb.name!r}.")
        used = int(
            s.exec(
                select(func.count())
                .select_from(PlaybookBlueprint)
                .where(PlaybookBlueprint.playbook_id == playbook_id)
            ).one()
        )
        c.within_limit(
            used,
            c.account.limit_connected_blueprints,
            "connected blueprints",
            holder=repr(pb.name),
            remedy="disconnect one",
        )
        s.add(
            PlaybookBlueprint(
                playbook_id=playbook_id, blueprint_id=blueprint_id, connected_at=clock.now()
            )
        )
        s.flush()
        c.log("playbook.connect", "playbook", pb.id, pb.name, f"connected blueprint {bp.name!r}")
        d = _detail(s, actor.account_id, playbook_id)
        return next(x for x in d.connections if x.blueprint_id == blueprint_id)


def disconnect(
    store: Store,
    actor: Actor,
    playbook_id: int,
    blueprint_id: int,
    *,
    expected_mappings: int | None = None,
) -> int:
    """Disconnect a blueprint; its mappings in this playbook go with it.
    Returns how many mappings were removed. With ``expected_mappings`` (the
    count the administrator confirmed), a different count is refused (Conflict)."""
    with change(store, actor, "disconnect blueprints from playbooks") as c:
        s = c.s
        pb = _playbook(s, actor, playbook_id)
        bp = _blueprint(s, actor, blueprint_id)
        conn = _connection(s, playbook_id, blueprint_id)
        if conn is None:
            raise NotFound(f"{bp.name!r} is not connected to {pb.name!r}.")
        n = _blueprint_mappings(s, playbook_id, blueprint_id)
        if expected_mappings is not None and n != expected_mappings:
            raise Conflict(
                f"{bp.name!r} now has {_plural(n, 'mapping')} in {pb.name!r}, not "
                f"{expected_mappings}: someone changed it meanwhile. Look again and retry."
            )
        field_ids = select(BlueprintField.id).where(BlueprintField.blueprint_id == blueprint_id)
        s.exec(
            sql_delete(Mapping).where(
                col(Mapping.playbook_id) == playbook_id,
                col(Mapping.blueprint_field_id).in_(field_ids),
            )
        )
        s.delete(conn)
        c.log(
            "playbook.disconnect",
            "playbook",
            pb.id,
            pb.name,
            f"disconnected blueprint {bp.name!r}; {_plural(n, 'mapping')} removed",
        )
        return n


# -- mappings --------------------------------------------------------------------


def _row(bp: Blueprint, bf: BlueprintField, df: DataField | None) -> MappingRow:
    return MappingRow(
        blueprint_id=bp.id or 0,
        blueprint_name=bp.name,
        field_id=bf.id or 0,
        field_name=bf.name,
        field_description=bf.description,
        required=bf.mapping_required,
        data_field_id=df.id if df else None,
        data_field_name=df.name if df else None,
    )


def _receives_from(s: Session, playbook_id: int, data_field_id: int, blueprint_id: int):
    """The mapping (and its field name) bringing a field of ``blueprint_id`` into the data field."""
    return s.exec(
        select(Mapping, BlueprintField.name)
        .join(BlueprintField, BlueprintField.id == Mapping.blueprint_field_id)
        .where(
            Mapping.playbook_id == playbook_id,
            Mapping.data_field_id == data_field_id,
            BlueprintField.blueprint_id == blueprint_id,
        )
    ).first()


def set_mapping(
    store: Store,
    actor: Actor,
    playbook_id: int,
    blueprint_field_id: int,
    data_field_id: int | None,
) -> MappingRow:
    """Map a field of a connected blueprint to a data field of the playbook
    (replacing its previous data field), or clear its mapping with None.

    Refused when the blueprint is not connected, or when the data field
    already receives another field of the same blueprint."""
    with change(store, actor, "change mappings") as c:
        s = c.s
        c.on_duplicate(
            Conflict(
                "That blueprint field was mapped by someone else meanwhile; look again and retry."
            )
        )
        pb = _playbook(s, actor, playbook_id)
        bf = s.get(BlueprintField, blueprint_field_id)
        if bf is None:
            raise NotFound("That blueprint field no longer exists.")
        bp = _blueprint(s, actor, bf.blueprint_id or 0)
        if _connection(s, playbook_id, bp.id or 0) is None:
            raise Conflict(
                f"{bp.name!r} is not connected to {pb.name!r}: connect it before mapping "
                "its fields."
            )
        _require_enabled(s, bp)
        current = s.exec(
            select(Mapping).where(
                Mapping.playbook_id == playbook_id,
                Mapping.blueprint_field_id == blueprint_field_id,
            )
        ).first()
        before = s.get(DataField, current.data_field_id) if current else None
        label = f"{pb.name}: {bp.name} / {bf.name}"
        if data_field_id is None:
            if current is not None:
                s.delete(current)
                c.log(
                    "mapping.delete",
                    "mapping",
                    current.id,
                    label,
                    f"was mapped to {before.name!r}" if before else "",
                )
            return _row(bp, bf, None)
        _require_plan(c, "change mappings")
        df = s.get(DataField, data_field_id)
        if df is None or df.playbook_id != playbook_id:
            raise NotFound("That data field no longer exists.")
        if current is not None and current.data_field_id == df.id:
            return _row(bp, bf, df)
        other = _receives_from(s, playbook_id, df.id or 0, bp.id or 0)
        if other is not None:
            raise Conflict(
                f"The data field {df.name!r} already receives {other[1]!r} from "
                f"{bp.name!r}; a data field takes at most one field from each blueprint. "
                f"Map {bf.name!r} to another data field, or clear that mapping first."
            )
        if current is not None:
            current.data_field_id = df.id
            s.add(current)
            s.flush()
            c.log(
                "mapping.update",
                "mapping",
                current.id,
                label,
                f"now mapped to {df.name!r}" + (f" (was {before.name!r})" if before else ""),
            )
        else:
            m = Mapping(playbook_id=playbook_id, blueprint_field_id=bf.id, data_field_id=df.id)
            s.add(m)
            s.flush()
            c.log("mapping.create", "mapping", m.id, label, f"mapped to {df.name!r}")
        return _row(bp, bf, df)


@dataclass
class _Plan:
    """What "create data fields from a blueprint" would do (inside a transaction)."""

    pb: Playbook
    bp: Blueprint
    existing: list[DataField]
    to_create: list[BlueprintField]
    to_existing: list[tuple[BlueprintField, DataField]]
    skipped: list[str]

    def result(self, new_fields: Sequence[DataField] = ()) -> FromBlueprintResult:
        return FromBlueprintResult(
            blueprint_name=self.bp.name,
            created=tuple(bf.name for bf in self.to_create),
            mapped_to_existing=tuple(bf.name for bf, _ in self.to_existing),
            skipped=tuple(self.skipped),
            data_field_ids=tuple(f.id or 0 for f in new_fields),
        )


def _plan_from_blueprint(
    s: Session, actor: Actor, account: Account, playbook_id: int, blueprint_id: int
) -> _Plan:
    pb = _playbook(s, actor, playbook_id)
    bp = _blueprint(s, actor, blueprint_id)
    if _connection(s, playbook_id, blueprint_id) is None:
        raise Conflict(f"{bp.name!r} is not connected to {pb.name!r}: connect it first.")
    _require_enabled(s, bp)
    bfields = s.exec(
        select(BlueprintField)
        .where(BlueprintField.blueprint_id == blueprint_id)
        .order_by(col(BlueprintField.position), col(BlueprintField.id))
    ).all()
    maps = s.exec(
        select(Mapping.blueprint_field_id, Mapping.data_field_id)
        .join(BlueprintField, BlueprintField.id == Mapping.blueprint_field_id)
        .where(Mapping.playbook_id == playbook_id, BlueprintField.blueprint_id == blueprint_id)
    ).all()
    mapped_fields = {bf_id for bf_id, _ in maps}
    receiving: set[int] = {df_id for _, df_id in maps}  # data fields fed by this blueprint
    existing = list(s.exec(select(DataField).where(DataField.playbook_id == playbook_id)).all())
    by_name = {f.name.lower(): f for f in existing}

    plan = _Plan(pb, bp, existing, [], [], [])
    new_names: set[str] = set()
    for bf in bfields:
        if bf.id in mapped_fields:
            continue
        key = bf.name.lower()
        if key in new_names:  # two blueprint fields differing only by case
            plan.skipped.append(bf.name)
        elif key in by_name:
            df = by_name[key]
            if df.id in receiving:
                plan.skipped.append(bf.name)
            else:
                plan.to_existing.append((bf, df))
                receiving.add(df.id or 0)
        else:
            plan.to_create.append(bf)
            new_names.add(key)

    limit = account.limit_data_fields
    used, adding = len(existing), len(plan.to_create)
    if used + adding > limit:
        raise LimitReached(
            "Data fields",
            limit,
            f"Creating {_plural(adding, 'data field')} from {bp.name!r} would pass "
            f"the limit of {limit} data fields of {pb.name!r} (it has {used}): "
            f"{used + adding - limit} would not fit. Nothing was created; delete data fields "
            "or ask your operator to raise the limit.",
        )
    return plan


def preview_from_blueprint(
    store: Store, actor: Actor, playbook_id: int, blueprint_id: int
) -> FromBlueprintResult:
    """What ``create_data_fields_from_blueprint`` would do now, without doing it
    (for the confirmation). Raises what it would raise, LimitReached included."""
    with store.read() as s:
        account = s.get(Account, actor.account_id)
        if account is None:
            raise NotFound("The account no longer exists.")
        return _plan_from_blueprint(s, actor, account, playbook_id, blueprint_id).result()


def create_data_fields_from_blueprint(
    store: Store, actor: Actor, playbook_id: int, blueprint_id: int
) -> FromBlueprintResult:
    """One data field per unmapped field of a connected blueprint (same name
    and description), each mapped to its blueprint field, in one transaction.

    A name that already exists among the data fields is not created again:
    the blueprint field is mapped to that existing data field when it receives
    nothing yet from this blueprint, and skipped otherwise (see
    ``FromBlueprintResult``). If the new data fields would not all fit within
    the account's limit of data fields, nothing is done and LimitReached says
    how many would not fit."""
    with _change(store, actor, "create data fields") as c:
        s = c.s
        plan = _plan_from_blueprint(s, actor, c.account, playbook_id, blueprint_id)
        pb, bp, existing = plan.pb, plan.bp, plan.existing
        to_create, to_existing, skipped = plan.to_create, plan.to_existing, plan.skipped
        if not to_create and not to_existing:
            return plan.result()

        last = max((f.position for f in existing), default=0)
        now = clock.now()
        new_fields = [
            DataField(
                playbook_id=pb.id,
                name=bf.name,
                description=bf.description,
                position=last + i,
                created_at=now,
            )
            for i, bf in enumerate(to_create, start=1)
        ]
        s.add_all(new_fields)
        s.flush()
        pairs = [*zip(to_create, new_fields, strict=True), *to_existing]
        s.add_all(
            Mapping(playbook_id=playbook_id, blueprint_field_id=bf.id, data_field_id=df.id)
            for bf, df in pairs
        )
        s.flush()
        detail = [f"from blueprint {bp.name!r}: {_plural(len(new_fields), 'data field')} created"]
        if new_fields:
            detail[0] += " and mapped (" + _names(bf.name for bf in to_create) + ")"
        if to_existing:
            detail.append(
                f"{len(to_existing)} mapped to existing data fields of the same name ("
                + _names(bf.name for bf, _ in to_existing)
                + ")"
            )
        if skipped:
            detail.append(
                f"{len(skipped)} skipped: a data field of that name already receives a field "
                f"of this blueprint ({_names(skipped)})"
            )
        c.log("playbook.fields_from_blueprint", "playbook", pb.id, pb.name, "; ".join(detail))
        return plan.result(new_fields)


def _names(names: Iterable[str]) -> str:
    return ", ".join(repr(n) for n in names)


# Every public function above refuses wrong-typed arguments before it runs.
validate.check_public(globals())
