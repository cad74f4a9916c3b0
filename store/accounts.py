"""Accounts, their plan and limits, users and the permission
*Manage add-ons and integrations*."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, func, select

from . import clock, validate
from .catalog import PLANS
from .change import anyone, change, may_manage
from .db import Store
from .errors import NotFound, UnknownUser, ValidationError
from .models import Account, Blueprint, Playbook, User
from .refusals import PERMISSION as PERMISSION
from .values import AccountInfo, Actor  # defined without SQLAlchemy, for the first screen

LIMIT_FIELDS = {
    "custom_blueprints": "limit_custom_blueprints",
    "connected_blueprints": "limit_connected_blueprints",
    "data_fields": "limit_data_fields",
    "playbooks": "limit_playbooks",
}


@dataclass(frozen=True)
class UserInfo:
    id: int
    login: str
    name: str
    role: str
    can_manage: bool
    last_seen_at: datetime | None


def _actor(u: User) -> Actor:
    return Actor(
        user_id=u.id or 0,
        login=u.login,
        name=u.name,
        account_id=u.account_id or 0,
        role=u.role,
        can_manage=u.can_manage,
    )


def sign_in(store: Store, login: str, *, name: str = "") -> Actor:
    """Open the program as ``login``.

    On a database without an account, one is created on the Business plan and
    ``login`` becomes its owner with the permission. Otherwise an unknown login
    is refused (UnknownUser).
    """
    # Any text may arrive here (the OS login, a --user argument): refuse what no
    # user can have (undecodable bytes, control characters, >100 characters).
    if validate.name(login, field="login", what="Login") != login:
        raise ValidationError("login", "A login cannot start or end with spaces.")
    store.prepare()
    # A known user (nearly every start): the visit recorded and the user read in
    # one statement (on a team's server: BEGIN, this, COMMIT).
    with store.write() as s:
        known = s.exec(
            update(User)
            .where(col(User.login) == login)
            .values(last_seen_at=clock.now())
            .returning(User)
        ).first()
        if known is not None:
            return _actor(known[0])
    # The whole database: two first sign-ins at once must not make two accounts.
    with change(store, None, "sign in", check=anyone, whole_database=True) as c:
        s = c.s
        user = s.exec(select(User).where(User.login == login)).first()
        if user is None:
            has_account = s.exec(select(Account.id).limit(1)).first() is not None
            if has_account:
                raise UnknownUser(
                    f"The login {login!r} is not a user of this database. Ask an owner to "
                    f"add you: integrations-admin users add {login}"
                )
            now = clock.now()
            account = Account(name="My account", plan="Business", created_at=now)
            s.add(account)
            s.flush()
            user = User(
                account_id=account.id,
                login=login,
                name=name or login,
                role="owner",
                can_manage=True,
                created_at=now,
            )
            s.add(user)
            s.flush()
            c.account_id, c.actor_label = account.id, login
            c.log(
                "account.create",
                "account",
                account.id,
                account.name,
                "plan Business; first user became owner",
            )
        user.last_seen_at = clock.now()
        s.add(user)
        s.flush()
        return _actor(user)


def refresh_actor(store: Store, actor: Actor) -> Actor:
    """The actor as the database now knows them (permission may have changed)."""
    with store.read() as s:
        user = s.get(User, actor.user_id)
        if user is None:
            raise UnknownUser(f"The user {actor.login!r} was removed from this account.")
        return _actor(user)


def require_manage(s: Session, actor: Actor, doing: str) -> Account:
    """Check, inside a write transaction, that the actor may manage integrations
    (``change.may_manage``); returns their account. ``change`` runs it itself."""
    may_manage(s, actor, doing)
    account = s.get(Account, actor.account_id)
    assert account is not None
    return account


def account_info(store: Store, account_id: int) -> AccountInfo:
    # The account and both counts in one statement (one round trip).
    custom_q = (
        select(func.count())
        .select_from(Blueprint)
        .where(Blueprint.account_id == account_id, col(Blueprint.native).is_(False))
        .scalar_subquery()
    )
    playbooks_q = (
        select(func.count())
        .select_from(Playbook)
        .where(Playbook.account_id == account_id)
        .scalar_subquery()
    )
    with store.read() as s:
        row = s.exec(select(Account, custom_q, playbooks_q).where(Account.id == account_id)).first()
        if row is None:
            raise NotFound("The account no longer exists.")
        a, custom, playbooks = row
        return AccountInfo(
            id=a.id or 0,
            name=a.name,
            plan=a.plan,
            limit_custom_blueprints=a.limit_custom_blueprints,
            limit_connected_blueprints=a.limit_connected_blueprints,
            limit_data_fields=a.limit_data_fields,
            limit_playbooks=a.limit_playbooks,
            webhook_timeout_s=a.webhook_timeout_s,
            allow_private_webhooks=a.allow_private_webhooks,
            custom_blueprints=int(custom),
            playbooks=int(playbooks),
        )


def name_and_plan(store: Store, account_id: int) -> tuple[str, str]:
    """The account's name and plan, in one small query (the header shows them)."""
    with store.read() as s:
        row = s.exec(select(Account.name, Account.plan).where(Account.id == account_id)).first()
    if row is None:
        raise NotFound("The account no longer exists.")
    return row[0], row[1]


@dataclass(frozen=True)
class Changes:
    """The account's change counter, with the header's name and plan (``changes``)."""

    count: int
    name: str
    plan: str


_CHANGES = select(Account.changes, Account.name, Account.plan).where(
    Account.id == bindparam("account_id")
)
_CHANGES_SQL: dict[str, tuple[str, Any]] = {}


def changes(store: Store, account_id: int) -> Changes:
    """How many changes the account has seen (``account.changes``: up by one in
    every write holding its lock), and its name and plan: what an open screen
    polls to know whether to read again. One plain SELECT on ``quick_read``'s
    connection (one round trip on PostgreSQL, no transaction around it)."""
    dialect = store.engine.dialect
    compiled = _CHANGES_SQL.get(dialect.name)
    if compiled is None:
        c = _CHANGES.compile(dialect=dialect)
        compiled = _CHANGES_SQL[dialect.name] = (str(c), c.positiontup)
    sql, positions = compiled
    params: tuple | dict = (account_id,) if positions else {"account_id": account_id}
    with store.quick_read() as raw:
        cur = raw.cursor()
        try:
            cur.execute(sql, params)
            row = cur.fetchone()
        finally:
            cur.close()
    if row is None:
        raise NotFound("The account no longer exists.")
    return Changes(int(row[0]), str(row[1]), str(row[2]))


def header(store: Store, account_id: int) -> Changes:
    """``changes`` read in a session: inside a screen's load (``Store.together``)
    it is one statement of that transaction, so the screen knows which change
    it showed (no reload for its own change when the next poll comes)."""
    with store.read() as s:
        row = s.exec(_CHANGES.params(account_id=account_id)).first()
    if row is None:
        raise NotFound("The account no longer exists.")
    return Changes(int(row[0]), str(row[1]), str(row[2]))


def first_account_id(store: Store) -> int:
    with store.read() as s:
        aid = s.exec(select(Account.id).order_by(Account.id).limit(1)).first()
    if aid is None:
        raise NotFound("This database has no account yet: open the program once to create it.")
    return aid


# -- operator (command line) ---------------------------------------------------


def set_plan_and_limits(
    store: Store,
    account_id: int,
    *,
    operator: str,
    plan: str | None = None,
    limits: dict[str, int] | None = None,
) -> AccountInfo:
    """The operator's lever: plan and limits are not changed from the TUI."""
    if plan is not None and plan not in PLANS:
        raise ValidationError("plan", f"Unknown plan {plan!r}; choose one of {', '.join(PLANS)}.")
    changes: list[str] = []
    with change(store, None, "change the plan", check=anyone, account_id=account_id) as c:
        s, a = c.s, c.account
        c.actor_label = operator
        if plan is not None and plan != a.plan:
            from . import catalog
            from .models import Integration

            what = f"plan {a.plan} -> {plan}"
            keys = s.exec(
                select(Integration.extension_key).where(
                    Integration.account_id == account_id, col(Integration.enabled).is_(True)
                )
            ).all()
            # Nothing is modified below the account: the plan alone suspends them.
            suspended = [
                catalog.extension(k).name
                for k in keys
                if catalog.suspended_by_plan(k, plan) and not catalog.suspended_by_plan(k, a.plan)
            ]
            if suspended:
                what += f" (suspends {', '.join(suspended)}; nothing deleted)"
            changes.append(what)
            a.plan = plan
        for key, value in (limits or {}).items():
            if key not in LIMIT_FIELDS:
                raise ValidationError(key, f"Unknown limit {key!r}.")
            if not isinstance(value, int) or value < 0 or value > 1_000_000:
                raise ValidationError(key, f"The limit {key} must be a whole number 0-1000000.")
            attr = LIMIT_FIELDS[key]
            if getattr(a, attr) != value:
                changes.append(f"{key} {getattr(a, attr)} -> {value}")
                setattr(a, attr, value)
        if changes:
            s.add(a)
            c.log("account.update", "account", account_id, a.name, "; ".join(changes))
    return account_info(store, account_id)


def list_users(store: Store, account_id: int) -> list[UserInfo]:
    with store.read() as s:
        rows = s.exec(
            select(User).where(User.account_id == account_id).order_by(col(User.login))
        ).all()
        return [
            UserInfo(u.id or 0, u.login, u.name, u.role, u.can_manage, u.last_seen_at) for u in rows
        ]


# -- the account view: plan, what it includes, every limit with usage ------------


@dataclass(frozen=True)
class PlanFeature:
    name: str
    needs: str  # the lowest plan that includes it
    included: bool


@dataclass(frozen=True)
class LimitUsage:
    """One limit and how much of it is used. For per-playbook limits, ``used``
    is the fullest playbook's count and ``where`` names it."""

    key: str  # custom_blueprints | connected_blueprints | data_fields | playbooks
    label: str
    used: int
    limit: int
    per_playbook: bool = False
    where: str = ""

    @property
    def full(self) -> bool:
        return self.used >= self.limit


@dataclass(frozen=True)
class AccountOverview:
    info: AccountInfo
    features: tuple[PlanFeature, ...]
    limits: tuple[LimitUsage, ...]
    users: int
    owners: int


def plan_features(plan: str) -> tuple[PlanFeature, ...]:
    """What a plan includes, from the catalog (the lowest plan of each kind of extension)."""
    from . import catalog

    rank = catalog.plan_rank(plan)
    native = min((e.plan for e in catalog.EXTENSIONS if e.native), key=catalog.plan_rank)
    custom = catalog.extension(catalog.CUSTOM_KEY).plan
    rows = [
        ("Marketplace (browse every extension)", "Free"),
        ("Native integrations (Salesforce, HubSpot ...)", native),
        ("Playbooks", catalog.PLAYBOOKS_PLAN),
        ("Custom integration: your blueprints, API tokens, webhooks", custom),
    ]
    return tuple(PlanFeature(n, p, rank >= catalog.plan_rank(p)) for n, p in rows)


def _fullest(s: Session, model, account_id: int) -> tuple[int, str]:
    """The largest per-playbook count of ``model`` rows, and that playbook's name."""
    n = func.count().label("n")
    row = s.exec(
        select(Playbook.name, n)
        .join(model, model.playbook_id == Playbook.id)
        .where(Playbook.account_id == account_id)
        .group_by(Playbook.id, Playbook.name)
        .order_by(n.desc(), col(Playbook.name))
        .limit(1)
    ).first()
    return (int(row[1]), row[0]) if row else (0, "")


def overview(store: Store, account_id: int) -> AccountOverview:
    """Plan, what it includes, every limit with usage, and how many users: for the account view."""
    from .models import DataField, PlaybookBlueprint

    info = account_info(store, account_id)
    with store.read() as s:
        conn, conn_where = _fullest(s, PlaybookBlueprint, account_id)
        fields, fields_where = _fullest(s, DataField, account_id)
        roles = s.exec(
            select(User.role, func.count()).where(User.account_id == account_id).group_by(User.role)
        ).all()
    by_role = {r: int(n) for r, n in roles}
    limits = (
        LimitUsage(
            "custom_blueprints",
            "Custom blueprints",
            info.custom_blueprints,
            info.limit_custom_blueprints,
        ),
        LimitUsage(
            "connected_blueprints",
            "Connected blueprints per playbook",
            conn,
            info.limit_connected_blueprints,
            per_playbook=True,
            where=conn_where,
        ),
        LimitUsage(
            "data_fields",
            "Data fields per playbook",
            fields,
            info.limit_data_fields,
            per_playbook=True,
            where=fields_where,
        ),
        LimitUsage("playbooks", "Playbooks", info.playbooks, info.limit_playbooks),
    )
    return AccountOverview(
        info=info,
        features=plan_features(info.plan),
        limits=limits,
        users=sum(by_role.values()),
        owners=by_role.get("owner", 0),
    )


# -- what an operator's change will do (warned before it happens) ----------------


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class PlanChange:
    """What ``set_plan_and_limits`` with the same arguments would do, in words.

    ``warnings`` are what stops working or goes over a limit: each needs the
    operator's confirmation first. ``notes`` are good news (what an upgrade
    restores) and need none.
    """

    warnings: tuple[str, ...]
    notes: tuple[str, ...]


def plan_change_effects(
    store: Store,
    account_id: int,
    *,
    plan: str | None = None,
    limits: dict[str, int] | None = None,
) -> PlanChange:
    """The consequences of a plan or limit change, before it is made (a pure
    read): each enabled integration the new plan does not include (suspended:
    it stops working, nothing is deleted, a plan that includes it restores it),
    playbooks on Free, and each limit set below what is already used (what is
    there is kept; new ones are refused until under the limit)."""
    from . import catalog, integrations

    if plan is not None and plan not in PLANS:
        raise ValidationError("plan", f"Unknown plan {plan!r}; choose one of {', '.join(PLANS)}.")
    ov = overview(store, account_id)
    old = ov.info.plan
    warnings: list[str] = []
    notes: list[str] = []
    if plan is not None and plan != old:
        for i in integrations.active(store, account_id):
            before = catalog.suspended_by_plan(i.key, old)
            after = catalog.suspended_by_plan(i.key, plan)
            if after and not before:
                kept = (
                    f"{_count(i.blueprints, 'blueprint')}, "
                    + ("its managed API token" if i.native else _count(i.tokens, "API token"))
                    + f" and {_count(i.webhooks, 'webhook')}"
                )
                warnings.append(
                    f"{i.name} will be suspended: it needs the {i.extension.plan} plan or "
                    f"higher. Its API tokens stop verifying, its webhooks stop sending and "
                    f"nothing can be changed under it; its {kept} are kept, and a plan "
                    "that includes it restores it as it was."
                )
            elif before and not after:
                notes.append(f"{i.name} works again: the {plan} plan includes it.")
        was_refused = catalog.playbooks_refusal(old, "change playbooks")
        refused = catalog.playbooks_refusal(plan, "change playbooks")
        if refused and not was_refused:
            n = ov.info.playbooks
            warnings.append(
                f"Playbooks need the {catalog.PLAYBOOKS_PLAN} plan or higher: no playbook can "
                f"be created or changed (the account's {_count(n, 'playbook')} "
                f"{'is' if n == 1 else 'are'} kept; deleting stays possible)."
            )
        elif was_refused and not refused:
            notes.append(f"Playbooks can be created and changed again on {plan}.")
    usage = {u.key: u for u in ov.limits}
    for key, value in (limits or {}).items():
        u = usage.get(key)
        if u is None or not isinstance(value, int) or isinstance(value, bool):
            continue  # set_plan_and_limits refuses it with its own words
        if u.used <= value:
            continue
        what = u.label.removesuffix(" per playbook").lower()
        has = f"{u.used} {what if u.used != 1 else what.removesuffix('s')}"
        until = (
            f" until there are fewer than {value}"
            if value > 1
            else (" until there are none" if value == 1 else "")
        )
        if u.per_playbook:
            warnings.append(
                f"{key} {value} is below current use: the playbook {u.where!r} already has "
                f"{has}. What is there is kept; no more can be added to a playbook{until}."
            )
        else:
            warnings.append(
                f"{key} {value} is below current use: the account already has {has}. "
                f"They are kept; new ones are refused{until}."
            )
    return PlanChange(tuple(warnings), tuple(notes))


# Every public function above refuses wrong-typed arguments before it runs.
validate.check_public(globals())
