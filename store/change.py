"""One way to change the store.

Every change runs as::

    with change(store, actor, "create blueprints") as c:
        c.within_limit(used, c.account.limit_custom_blueprints, "custom blueprints")
        c.unique(taken, "name", f"A blueprint named {name!r} already exists.")
        c.s.add(bp)
        c.log("blueprint.create", "blueprint", bp.id, name)

``change`` opens the account's write lock (``Store.write``: the one place for
locks and driver errors), checks the actor's permission, and yields a
``Change``: the session for the writes, the account, and the checks that
refuse (limit, version, unique name, plan) and the audit entry, all in the one
transaction. A refusal raised inside rolls everything back, the audit entries
included; a unique name taken by a concurrent change (the database's
IntegrityError at flush or commit) becomes the refusal ``unique`` was given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from . import audit
from .errors import (
    Conflict,
    DomainError,
    LimitReached,
    NotFound,
    PermissionDenied,
    PlanRequired,
    UnknownUser,
    ValidationError,
)
from .models import Account, User
from .refusals import ACTING, changed_meanwhile, limit_refusal, manage_refusal

if TYPE_CHECKING:
    from .db import Store


class Who(Protocol):
    """Whoever acts: an ``Actor`` (a user) or a ``users.Operator``."""

    @property
    def login(self) -> str: ...

    @property
    def account_id(self) -> int: ...


class _Versioned(Protocol):
    version: int


# A permission check run first thing in the transaction: (session, who, doing).
Check = Callable[[Session, "Who", str], None]


class _Acting:
    def __init__(self, can_manage: bool) -> None:
        self.can_manage = can_manage


def may_manage(s: Session, who: Who, doing: str) -> None:
    """The usual check: ``who`` is still a user with the permission *Manage
    add-ons and integrations* (``refusals.manage_refusal``'s words)."""
    user_id = getattr(who, "user_id", 0)
    read = s.info.get(ACTING)
    user: Any
    if read is not None and read[0] == user_id:
        user = _Acting(bool(read[1])) if read[1] is not None else None
    else:
        user = s.get(User, user_id)
    if user is None:
        raise UnknownUser(f"The user {who.login!r} was removed from this account.")
    refusal = manage_refusal(user, doing)
    if refusal:
        raise PermissionDenied(refusal)


def anyone(s: Session, who: Who, doing: str) -> None:
    """No permission check: the operator at the command line, the program itself."""


class Change:
    """One change in progress: its session, account and checks (see ``change``)."""

    def __init__(self, s: Session, who: Who, doing: str, account_id: int | None) -> None:
        self.s = s
        self.who = who
        self.doing = doing
        self.account_id = account_id
        self.actor_label: str = getattr(who, "label", None) or who.login
        self._account: Account | None = None
        self._on_duplicate: DomainError | None = None

    @property
    def account(self) -> Account:
        """The account being changed (read once, in this transaction)."""
        if self._account is None:
            account = self.s.info.get("account") or self.s.get(Account, self.account_id)
            if account is None:
                raise NotFound("The account no longer exists.")
            self._account = account
        return self._account

    def require_plan(self, needed: str, refusal: str | None) -> None:
        """Refuse (PlanRequired for ``needed``) when a plan check gave ``refusal``
        (``catalog.plan_refusal``, ``playbooks_refusal``, ``suspended_by_plan``)."""
        if refusal:
            raise PlanRequired(needed, refusal)

    def within_limit(
        self,
        used: int,
        limit: int,
        what: str,
        *,
        holder: str = "This account",
        remedy: str = "delete one",
    ) -> None:
        """Refuse (LimitReached) one more of ``what`` when ``used`` reached ``limit``,
        with ``refusals.limit_refusal``'s words."""
        refusal = limit_refusal(used, limit, what, holder=holder, remedy=remedy)
        if refusal:
            raise LimitReached(what[:1].upper() + what[1:], limit, refusal)

    def unchanged_since(
        self, obj: _Versioned, version: int | None, label: str, *, bump: bool = True
    ) -> None:
        """Refuse (Conflict) an edit of ``obj`` opened at ``version`` when it has
        changed since (None: no check), then bump its version (unless ``bump`` is
        false: the caller bumps it only if something changes). ``label`` names it
        in the refusal, e.g. "The playbook 'Sales'"."""
        if version is not None and obj.version != version:
            raise Conflict(changed_meanwhile(label))
        if bump:
            obj.version += 1

    def unique(self, taken: bool, field: str, message: str, *, race: str | None = None) -> None:
        """Refuse (ValidationError on ``field``) a name already ``taken``. A name
        taken meanwhile by a concurrent change, which the database refuses at
        flush or commit, is refused the same way (with ``race`` when given)."""
        if taken:
            raise ValidationError(field, message)
        self.on_duplicate(ValidationError(field, race or message))

    def unique_name(
        self,
        model: Any,
        scope: Any,
        name: str,
        message: str,
        *,
        except_id: int | None = None,
        race: str | None = None,
    ) -> None:
        """``unique`` for a name column: refuse ``name`` when another row of
        ``model`` within ``scope`` (a condition, e.g. ``Blueprint.account_id ==
        1``) has it, case aside; ``except_id`` is the row being renamed."""
        q = select(model.id).where(scope, func.lower(model.name) == name.lower())
        if except_id is not None:
            q = q.where(model.id != except_id)
        self.unique(self.s.exec(q).first() is not None, "name", message, race=race)

    def on_duplicate(self, error: DomainError) -> None:
        """What a uniqueness refusal of the database (IntegrityError) in this
        change becomes."""
        self._on_duplicate = error

    def log(
        self,
        action: str,
        object_type: str,
        object_id: int | None = None,
        object_name: str = "",
        detail: str = "",
    ) -> None:
        """The audit entry of this change, in its transaction. Never a secret."""
        audit.record(
            self.s,
            account_id=self.account_id or 0,
            actor=self.actor_label,
            action=action,
            object_type=object_type,
            object_id=object_id,
            object_name=object_name,
            detail=detail,
        )


@contextmanager
def change(
    store: Store,
    who: Who | None,
    doing: str,
    *,
    check: Check = may_manage,
    account_id: int | None = None,
    whole_database: bool = False,
    quick: bool = False,
) -> Iterator[Change]:
    """One change by ``who`` (what they are ``doing``, in the words of a refusal:
    "create blueprints"): the account's write lock, ``check`` (the permission,
    ``may_manage`` by default), and a ``Change``; commits on success, rolls
    back (audit entries included) on any refusal or error.

    ``account_id`` defaults to ``who``'s; ``whole_database`` serializes with
    every other such change (see ``Store.write``); ``who`` may be None only
    with ``check=anyone`` (the program itself, no audit entry by a person).
    ``quick``: the API's hot changes, whose statements may run through the
    driver (``store.driver``; SQLite) and which need no ``Change.account``
    loaded up front (it is read if asked for).
    """
    if account_id is None and who is not None:
        account_id = who.account_id
    c: Change | None = None
    try:
        acting = getattr(who, "user_id", None) if check is may_manage else None
        with store.write(
            account_id, whole_database=whole_database, quick=quick, acting_user=acting
        ) as s:
            c = Change(s, who if who is not None else _Nobody(account_id), doing, account_id)
            if who is not None:
                check(s, who, doing)
            yield c
    except IntegrityError:
        if c is None or c._on_duplicate is None:
            raise
        raise c._on_duplicate from None


class _Nobody:
    """The program itself (a dispatcher, a verification): no login."""

    def __init__(self, account_id: int | None) -> None:
        self.login = ""
        self.account_id = account_id or 0
