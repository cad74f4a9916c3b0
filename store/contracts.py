"""Contracts: the data that integrations send, made from a playbook.

Public functions and what they return (plain frozen values, never ORM objects):

For the integration API (``caller`` is a ``tokens.ApiCaller``; a contract, a
playbook or a field of another integration or account is NotFound):

- ``create(store, caller, *, playbook_id, name, values) -> ContractDetail``
- ``get_for_caller(store, caller, contract_id) -> ContractDetail``
- ``update(store, caller, contract_id, *, name=None, values=None) -> ContractDetail``
  (a draft or published contract; a signed or declined one is a Conflict)
- ``publish(store, caller, contract_id) -> ContractDetail`` (draft -> published)
- ``sign(store, caller, contract_id) -> ContractDetail`` (published -> signed)
- ``decline(store, caller, contract_id) -> ContractDetail`` (published -> declined)

For administrators (read-only):

- ``all_for_account(store, account_id, *, text_filter="", limit=500) -> list[ContractInfo]``:
  newest first, with state, playbook and creating integration; the filter
  matches name, state, playbook or integration.
- ``detail(store, account_id, contract_id) -> ContractDetail``: the contract and
  each data field's value with its source.

``values`` maps a blueprint field's name or id (a string of digits) to its text.
Each value reaches the data field that the playbook maps that field to. The
fields in scope are those of the caller's integration's blueprints connected to
the playbook. Refused as ``errors.Invalid`` (a ValidationError listing every
problem as (field, message), the field being ``values.<key>``, ``name`` or
``playbook_id``): a key that names no field in scope, or a name two connected
blueprints share; a field not mapped in the playbook; a value that is not text,
is longer than 10,000 characters or holds control characters (line breaks and
tabs are kept); two fields reaching the same data field; more than 300 values;
a *mapping required* field without a value (on create, or emptied by update);
a playbook that is incomplete for this integration. Data fields that receive
nothing take their default value, with the source ``default``.

Every change is one ``store.change`` by the caller (the audit entry names the
token by its hint, never the token), re-checking in its transaction that the
token is still valid. ``_record`` writes the audit entry of each contract
change and, through the outbox (``store.outbox``), its event ``EVENTS[action]``
and that event's pending deliveries, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, func, or_, select

from . import catalog, clock, driver, outbox, validate
from .change import Change, change
from .db import Store
from .errors import Conflict, Invalid, NotFound, TokenRefused, ValidationError
from .models import (
    ApiToken,
    Blueprint,
    BlueprintField,
    Contract,
    ContractValue,
    DataField,
    Integration,
    Mapping,
    Playbook,
    PlaybookBlueprint,
)
from .textmatch import contains, like_pattern
from .tokens import ApiCaller

STATES = ("draft", "published", "signed", "declined")
# action -> (the state it starts from, the state it leads to)
TRANSITIONS = {
    "publish": ("draft", "published"),
    "sign": ("published", "signed"),
    "decline": ("published", "declined"),
}
EDITABLE = ("draft", "published")
EVENTS = {
    "create": "contract:create",
    "update": "data_field:update",
    "publish": "contract:publish",
    "sign": "contract:sign",
    "decline": "contract:decline",
}
"""The event each contract change produces (written by ``store.outbox``)."""
VALUE_MAX = 10_000
VALUES_MAX = 300
NAME_MAX = 200
KEY_MAX = 100  # a blueprint field's name is at most 100 characters
DEFAULT = "default"


# -- values returned -----------------------------------------------------------------


@dataclass(frozen=True)
class ContractInfo:
    id: int
    name: str
    state: str
    playbook_id: int | None  # None once the playbook was deleted
    playbook_name: str
    integration_id: int | None
    integration_name: str  # the creating integration
    created_at: datetime
    created_by: str
    updated_at: datetime
    version: int


@dataclass(frozen=True)
class ContractValueInfo:
    """One data field's value on a contract and where it came from."""

    data_field_id: int | None  # None once the data field was deleted
    name: str
    value: str
    source: str  # "Custom integration / Orders / Amount", or "default"
    source_field_id: int | None  # the blueprint field, None for a default
    updated_at: datetime

    @property
    def is_default(self) -> bool:
        return self.source_field_id is None and self.source == DEFAULT


@dataclass(frozen=True)
class ContractDetail:
    contract: ContractInfo
    values: tuple[ContractValueInfo, ...]


# -- reading -------------------------------------------------------------------------


def _info(row: Contract, integration_key: str | None) -> ContractInfo:
    return ContractInfo(
        id=row.id or 0,
        name=row.name,
        state=row.state,
        playbook_id=row.playbook_id,
        playbook_name=row.playbook_name,
        integration_id=row.integration_id,
        integration_name=catalog.extension(integration_key).name if integration_key else "",
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        version=row.version,
    )


def _detail(s: Session, account_id: int, contract_id: int, integration_id: int | None = None):
    q = (
        select(Contract, Integration.extension_key)
        .outerjoin(Integration, Integration.id == Contract.integration_id)
        .where(Contract.id == contract_id, Contract.account_id == account_id)
    )
    if integration_id is not None:
        q = q.where(Contract.integration_id == integration_id)
    head = s.exec(q).first()
    if head is None:
        raise NotFound(f"There is no contract {contract_id}.")
    row, key = head
    values = s.exec(
        select(ContractValue)
        .where(ContractValue.contract_id == contract_id)
        .order_by(col(ContractValue.position), col(ContractValue.id))
    ).all()
    return ContractDetail(
        contract=_info(row, key),
        values=tuple(
            ContractValueInfo(
                data_field_id=v.data_field_id,
                name=v.data_field_name,
                value=v.value,
                source=v.source,
                source_field_id=v.source_field_id,
                updated_at=v.updated_at,
            )
            for v in values
        ),
    )


def get_for_caller(store: Store, caller: ApiCaller, contract_id: int) -> ContractDetail:
    """A contract made by the caller's integration (NotFound for any other)."""
    with store.read() as s:
        return _detail(s, caller.account_id, contract_id, caller.integration_id)


def detail(store: Store, account_id: int, contract_id: int) -> ContractDetail:
    """A contract of the account, each data field's value with its source."""
    with store.read() as s:
        return _detail(s, account_id, contract_id)


def all_for_account(
    store: Store, account_id: int, *, text_filter: str = "", limit: int = 500
) -> list[ContractInfo]:
    """The account's contracts, newest first (one query). ``text_filter``
    matches the name, state or playbook name, ignoring case, in SQL."""
    if "\x00" in text_filter or validate.not_unicode(text_filter):
        return []
    q = (
        select(Contract, Integration.extension_key)
        .outerjoin(Integration, Integration.id == Contract.integration_id)
        .where(Contract.account_id == account_id)
    )
    needle = text_filter.strip().lower()
    if needle:
        like = like_pattern(needle)
        matches = [
            contains(Contract.name, like, store.is_sqlite),
            contains(Contract.state, like, store.is_sqlite),
            contains(Contract.playbook_name, like, store.is_sqlite),
        ]
        keys = [e.key for e in catalog.EXTENSIONS if needle in e.name.lower()]
        if keys:
            matches.append(col(Integration.extension_key).in_(keys))
        q = q.where(or_(*matches))
    q = q.order_by(col(Contract.id).desc()).limit(limit)
    with store.read() as s:
        return [_info(row, key) for row, key in s.exec(q).all()]


# -- changing ------------------------------------------------------------------------


def token_still_valid(s: Session, who: object, doing: str) -> None:
    """The permission check of an API change: the caller's token is still
    usable in this transaction (not revoked or expired, its integration
    enabled), so a token revoked a moment ago changes nothing."""
    token_id = getattr(who, "token_id", 0)
    found = _TOKEN_STATE.run(s, {"token_id": token_id})
    row = found[0] if found else None
    if row is None:
        raise TokenRefused("unknown", "This API token is not known.")
    revoked_at, expires_at, enabled = row
    if revoked_at is not None:
        raise TokenRefused("revoked", "This API token was revoked.")
    if expires_at is not None and expires_at <= clock.now():
        raise TokenRefused("expired", "This API token has expired.")
    if not enabled:
        raise TokenRefused("paused", "This API token's integration is disabled.")


@dataclass(frozen=True)
class _Field:
    id: int
    name: str
    required: bool
    blueprint_id: int
    blueprint_name: str
    data_field_id: int | None

    @property
    def label(self) -> str:
        return f"{self.name!r} ({self.blueprint_name})"


@dataclass(frozen=True)
class _Scope:
    playbook: Any  # a row: id, name
    fields: tuple[_Field, ...]  # the caller's connected fields, mapped or not
    data_fields: tuple[Any, ...]  # rows: id, name, default_value, position
    integration_name: str


# The statements behind every contract change, built once (Core, bound
# parameters): creating a contract runs each once.
_t = {m.__tablename__: m.__table__ for m in (ApiToken, Integration, Playbook, Blueprint)}  # type: ignore[attr-defined]
_bf = BlueprintField.__table__  # type: ignore[attr-defined]
_pbb = PlaybookBlueprint.__table__  # type: ignore[attr-defined]
_map = Mapping.__table__  # type: ignore[attr-defined]
_df = DataField.__table__  # type: ignore[attr-defined]
_TOKEN_STATE = driver.Prepared(
    select(_t["api_token"].c.revoked_at, _t["api_token"].c.expires_at, _t["integration"].c.enabled)
    .join(_t["integration"], _t["integration"].c.id == _t["api_token"].c.integration_id)
    .where(_t["api_token"].c.id == bindparam("token_id"))
)
_PLAYBOOK = driver.Prepared(
    select(_t["playbook"].c.id, _t["playbook"].c.name).where(
        _t["playbook"].c.id == bindparam("playbook_id"),
        _t["playbook"].c.account_id == bindparam("account_id"),
    )
)
_FIELDS = driver.Prepared(
    select(
        _bf.c.id,
        _bf.c.name,
        _bf.c.mapping_required,
        _t["blueprint"].c.id.label("blueprint_id"),
        _t["blueprint"].c.name.label("blueprint_name"),
        _map.c.data_field_id,
    )
    .select_from(_pbb)
    .join(_t["blueprint"], _t["blueprint"].c.id == _pbb.c.blueprint_id)
    .outerjoin(_bf, _bf.c.blueprint_id == _t["blueprint"].c.id)
    .outerjoin(
        _map, (_map.c.blueprint_field_id == _bf.c.id) & (_map.c.playbook_id == _pbb.c.playbook_id)
    )
    .where(
        _pbb.c.playbook_id == bindparam("playbook_id"),
        _t["blueprint"].c.integration_id == bindparam("integration_id"),
    )
    .order_by(_t["blueprint"].c.id, _bf.c.position, _bf.c.id)
)
_DATA_FIELDS = driver.Prepared(
    select(_df.c.id, _df.c.name, _df.c.default_value, _df.c.position)
    .where(_df.c.playbook_id == bindparam("playbook_id"))
    .order_by(_df.c.position, _df.c.id)
)
_INSERT_CONTRACT = driver.Prepared(
    Contract.__table__.insert().returning(Contract.__table__.c.id)  # type: ignore[attr-defined]
)
_INSERT_VALUES = driver.Prepared(ContractValue.__table__.insert())  # type: ignore[attr-defined]


def _scope(c: Change, caller: ApiCaller, playbook_id: int) -> _Scope:
    found = _PLAYBOOK.run(c.s, {"playbook_id": playbook_id, "account_id": caller.account_id})
    pb = found[0] if found else None
    rows = (
        _FIELDS.run(c.s, {"playbook_id": playbook_id, "integration_id": caller.integration_id})
        if pb is not None
        else []
    )
    if pb is None or not rows:
        raise NotFound(
            f"There is no playbook {playbook_id} connected to this integration's blueprints."
        )
    fields = tuple(
        _Field(
            id=fid,
            name=fname,
            required=bool(req),
            blueprint_id=bid,
            blueprint_name=bname,
            data_field_id=dfid,
        )
        for fid, fname, req, bid, bname, dfid in rows
        if fid is not None
    )
    data_fields = tuple(_DATA_FIELDS.run(c.s, {"playbook_id": playbook_id}))
    return _Scope(pb, fields, data_fields, caller.integration_name)


def _shown_key(key: str) -> str:
    shown = validate.printable(key)
    return repr(shown if len(shown) <= 60 else shown[:59] + "…")


def _route(
    scope: _Scope, values: object, *, creating: bool
) -> tuple[dict[int, tuple[str, _Field]], list[tuple[str, str]]]:
    """Which data field each value reaches: {data field id: (text, field)}, and
    the problems found (every one, so the caller can fix them all at once)."""
    problems: list[tuple[str, str]] = []
    if not isinstance(values, dict):
        return {}, [("values", "Values must be an object of field name or id to text.")]
    if len(values) > VALUES_MAX:
        n = len(values)
        return {}, [("values", f"At most {VALUES_MAX} values are allowed; this has {n}.")]
    by_id = {f.id: f for f in scope.fields}
    by_name: dict[str, list[_Field]] = {}
    for f in scope.fields:
        by_name.setdefault(f.name.casefold(), []).append(f)
    pb = scope.playbook.name
    routed: dict[int, tuple[str, _Field]] = {}
    given: set[int] = set()
    for key, value in values.items():
        where = f"values.{key}" if isinstance(key, str) and len(key) <= KEY_MAX else "values"
        if not isinstance(key, str) or validate.not_unicode(key) or "\x00" in key:
            problems.append(("values", "A field name is not valid text."))
            continue
        shown = _shown_key(key)
        field: _Field | None = None
        if key.strip().isdigit() and int(key.strip()) in by_id:
            field = by_id[int(key.strip())]
        else:
            named = by_name.get(key.strip().casefold(), [])
            if len(named) > 1:
                ids = ", ".join(f"{f.id} ({f.blueprint_name})" for f in named)
                problems.append(
                    (
                        where,
                        f"Several connected blueprints have a field named {shown}: use its id, "
                        f"one of {ids}.",
                    )
                )
                continue
            field = named[0] if named else None
        if field is None:
            problems.append(
                (
                    where,
                    f"No field of this integration's blueprints connected to the playbook "
                    f"{pb!r} is named or numbered {shown}.",
                )
            )
            continue
        if field.id in given:
            problems.append((where, f"The field {field.label} is given twice."))
            continue
        given.add(field.id)
        if field.data_field_id is None:
            problems.append(
                (
                    where,
                    f"The field {field.label} is not mapped to a data field in the playbook "
                    f"{pb!r}, so its value would go nowhere: leave it out, or ask an "
                    "administrator to map it.",
                )
            )
            continue
        if not isinstance(value, str):
            problems.append((where, f"The value of {field.label} must be text."))
            continue
        what = f"The value of {field.label}"
        if len(value) > VALUE_MAX:
            problems.append(
                (
                    where,
                    f"{what} is {len(value):,} characters long; at most {VALUE_MAX:,} are allowed.",
                )
            )
            continue
        try:
            text = validate.text(value, field=where, what=what, max_len=VALUE_MAX)
        except ValidationError as exc:
            problems.append((where, str(exc)))
            continue
        if field.required and not text:
            problems.append((where, f"A value for the required field {field.label} is needed."))
            continue
        other = routed.get(field.data_field_id)
        if other is not None:
            problems.append(
                (
                    where,
                    f"The fields {other[1].label} and {field.label} both reach the same data "
                    "field: give only one of them.",
                )
            )
            continue
        routed[field.data_field_id] = (text, field)
    if creating:
        for f in scope.fields:
            if f.required and f.id not in given:
                if f.data_field_id is None:
                    problems.append(
                        (
                            "playbook_id",
                            f"The playbook {pb!r} is incomplete: the required field {f.label} "
                            "is not mapped to a data field. An administrator must map it first.",
                        )
                    )
                else:
                    problems.append(
                        (f"values.{f.name}", f"A value for the required field {f.label} is needed.")
                    )
    return routed, problems


def _source(scope: _Scope, f: _Field) -> str:
    return f"{scope.integration_name} / {f.blueprint_name} / {f.name}"[:400]


def _record(c: Change, contract_id: int, name: str, action: str, detail: str) -> None:
    """The audit entry of a contract change and its event ``EVENTS[action]``
    with its pending deliveries (the outbox), in the change's transaction."""
    c.log(f"contract.{action}", "contract", contract_id, name, detail)
    outbox.emit(
        c,
        EVENTS[action],
        {"contract": {"id": contract_id, "name": name}, "detail": detail},
        integration_id=getattr(c.who, "integration_id", None),
        contract_id=contract_id,
    )


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:10])
    return shown + (f" and {len(names) - 10} more" if len(names) > 10 else "")


def create(
    store: Store, caller: ApiCaller, *, playbook_id: int, name: str, values: dict[str, str]
) -> ContractDetail:
    """A draft contract from the playbook, with ``values`` routed through its
    mappings (see the module's docstring); every data field gets a value."""
    problems: list[tuple[str, str]] = []
    try:
        name = validate.name(name, what="The contract's name", max_len=NAME_MAX)
    except ValidationError as exc:  # reported with the others
        problems.append(("name", str(exc)))
    with change(store, caller, "create contracts", check=token_still_valid, quick=True) as c:
        scope = _scope(c, caller, playbook_id)
        routed, found = _route(scope, values, creating=True)
        problems += found
        if problems:
            raise Invalid(problems)
        now = clock.now()
        contract_id = _INSERT_CONTRACT.run(
            c.s,
            {
                "account_id": caller.account_id,
                "integration_id": caller.integration_id,
                "playbook_id": playbook_id,
                "playbook_name": scope.playbook.name,
                "name": name,
                "state": "draft",
                "created_at": now,
                "created_by": caller.label,
                "updated_at": now,
                "version": 1,
            },
        )[0].id
        rows = []
        for df in scope.data_fields:
            text, field = routed.get(df.id, (None, None))
            rows.append(
                {
                    "contract_id": contract_id,
                    "data_field_id": df.id,
                    "data_field_name": df.name,
                    "position": df.position,
                    "value": df.default_value if field is None else text,
                    "source_integration_id": None if field is None else caller.integration_id,
                    "source_field_id": None if field is None else field.id,
                    "source": DEFAULT if field is None else _source(scope, field),
                    "updated_at": now,
                }
            )
        if rows:
            _INSERT_VALUES.run(c.s, rows)
        _record(
            c,
            contract_id,
            name,
            "create",
            f"playbook {scope.playbook.name}; {len(routed)} of {len(rows)} data fields sent",
        )
        info = ContractInfo(
            id=contract_id,
            name=name,
            state="draft",
            playbook_id=playbook_id,
            playbook_name=scope.playbook.name,
            integration_id=caller.integration_id,
            integration_name=caller.integration_name,
            created_at=now,
            created_by=caller.label,
            updated_at=now,
            version=1,
        )
        values_out = tuple(
            ContractValueInfo(
                data_field_id=r["data_field_id"],
                name=r["data_field_name"],
                value=r["value"],
                source=r["source"],
                source_field_id=r["source_field_id"],
                updated_at=now,
            )
            for r in rows
        )
    return ContractDetail(contract=info, values=values_out)


def _own(c: Change, caller: ApiCaller, contract_id: int) -> Contract:
    row = c.s.exec(
        select(Contract).where(
            Contract.id == contract_id,
            Contract.account_id == caller.account_id,
            Contract.integration_id == caller.integration_id,
        )
    ).first()
    if row is None:
        raise NotFound(f"There is no contract {contract_id}.")
    return row


def update(
    store: Store,
    caller: ApiCaller,
    contract_id: int,
    *,
    name: str | None = None,
    values: dict[str, str] | None = None,
) -> ContractDetail:
    """Change the name and/or values of a draft or published contract (the same
    rules as ``create``; values not given keep theirs)."""
    problems: list[tuple[str, str]] = []
    if name is not None:
        try:
            name = validate.name(name, what="The contract's name", max_len=NAME_MAX)
        except ValidationError as exc:
            problems.append(("name", str(exc)))
    with change(store, caller, "change contracts", check=token_still_valid, quick=True) as c:
        row = _own(c, caller, contract_id)
        if row.state not in EDITABLE:
            raise Conflict(
                f"The contract {row.name!r} is {row.state}: only a draft or published "
                "contract can be changed."
            )
        routed: dict[int, tuple[str, _Field]] = {}
        scope: _Scope | None = None
        if values:
            if row.playbook_id is None:
                raise Conflict(
                    f"The playbook of the contract {row.name!r} was deleted: its values can no "
                    "longer change."
                )
            scope = _scope(c, caller, row.playbook_id)
            routed, found = _route(scope, values, creating=False)
            problems += found
        elif values is not None and not isinstance(values, dict):
            problems.append(("values", "Values must be an object of field name or id to text."))
        if problems:
            raise Invalid(problems)
        now = clock.now()
        changed: list[str] = []
        if routed and scope is not None:
            current = {
                v.data_field_id: v
                for v in c.s.exec(
                    select(ContractValue).where(ContractValue.contract_id == row.id)
                ).all()
            }
            dfs = {df.id: df for df in scope.data_fields}
            for df_id, (text, field) in routed.items():
                v = current.get(df_id)
                df = dfs[df_id]
                if v is None:  # a data field added to the playbook since
                    v = ContractValue(
                        contract_id=row.id, data_field_id=df_id, data_field_name=df.name
                    )
                    v.position = df.position
                elif v.value == text and v.source_field_id == field.id:
                    continue
                v.value = text
                v.source_integration_id = caller.integration_id
                v.source_field_id = field.id
                v.source = _source(scope, field)
                v.updated_at = now
                c.s.add(v)
                changed.append(df.name)
        if name is not None and name != row.name:
            changed.insert(0, "name")
            row.name = name
        if changed:
            row.updated_at = now
            row.version += 1
            c.s.add(row)
            c.s.flush()
            _record(c, row.id or 0, row.name, "update", f"changed {_names(changed)}")
        return _detail(c.s, caller.account_id, row.id or 0)


def _transition(store: Store, caller: ApiCaller, contract_id: int, action: str) -> ContractDetail:
    start, end = TRANSITIONS[action]
    verb = {"publish": "published", "sign": "signed", "decline": "declined"}[action]
    with change(store, caller, f"{action} contracts", check=token_still_valid, quick=True) as c:
        row = _own(c, caller, contract_id)
        if row.state != start:
            raise Conflict(
                f"The contract {row.name!r} is {row.state}: only a {start} contract can be {verb}."
            )
        row.state = end
        row.updated_at = clock.now()
        row.version += 1
        c.s.add(row)
        c.s.flush()
        _record(c, row.id or 0, row.name, action, f"{start} -> {end}")
        return _detail(c.s, caller.account_id, row.id or 0)


def publish(store: Store, caller: ApiCaller, contract_id: int) -> ContractDetail:
    """draft -> published (any other state: Conflict)."""
    return _transition(store, caller, contract_id, "publish")


def sign(store: Store, caller: ApiCaller, contract_id: int) -> ContractDetail:
    """published -> signed (any other state: Conflict)."""
    return _transition(store, caller, contract_id, "sign")


def decline(store: Store, caller: ApiCaller, contract_id: int) -> ContractDetail:
    """published -> declined (any other state: Conflict)."""
    return _transition(store, caller, contract_id, "decline")


def count_for_account(store: Store, account_id: int) -> int:
    """How many contracts the account has."""
    with store.read() as s:
        return int(s.exec(select(func.count()).where(Contract.account_id == account_id)).one() or 0)


# ``values`` is checked by ``_route`` (each problem named by its key); ``name`` by
# validate.name, reported with the others.
validate.check_public(globals(), own={"create": ["values", "name"], "update": ["values", "name"]})
