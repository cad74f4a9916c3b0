"""Managing the people of an account: add, grant or withdraw the permission,
promote, demote, remove.

Only an **owner** manages users (the permission *Manage add-ons and
integrations* is about integrations, not people). An account always keeps at
least one owner: the last owner can be neither removed nor demoted. Every
change runs under the account's write lock, so two owners demoting each other
at the same moment cannot leave the account without one.

Each function takes ``by``: the ``Actor`` at the keyboard (an owner check
applies), or an ``Operator``, whoever runs the command line against the
database. For the operator, file permissions (SQLite) or database credentials
(PostgreSQL) are the boundary, as for plan and limits; the last-owner rule
holds for everyone.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from . import clock, validate
from .accounts import PERMISSION, Actor, UserInfo, list_users
from .change import Change, anyone, change
from .db import Store
from .errors import Conflict, NotFound, PermissionDenied, UnknownUser, ValidationError
from .models import User
from .refusals import (
    owner_permission_refusal,
    owner_refusal,
    user_demote_refusal,
    user_remove_refusal,
)

ROLES = ("owner", "member")

__all__ = [
    "ROLES",
    "Operator",
    "add",
    "demote",
    "list_users",
    "promote",
    "remove",
    "set_permission",
    "set_role",
    "update",
]


@dataclass(frozen=True)
class Operator:
    """Whoever runs ``integrations-admin users ...`` (scripted set-up)."""

    login: str
    account_id: int

    @property
    def label(self) -> str:
        return f"operator:{self.login}"


By = Actor | Operator


def _label(by: By) -> str:
    return by.label if isinstance(by, Operator) else by.login


def _require_owner(s: Session, by: By, doing: str) -> None:
    """Refuse unless ``by`` is an operator or, now, an owner of the account
    (``refusals.owner_refusal``'s words). The check of every change here."""
    if isinstance(by, Operator):
        return
    me = s.get(User, by.user_id)
    if me is None or me.account_id != by.account_id:
        raise UnknownUser(f"The user {by.login!r} was removed from this account.")
    refusal = owner_refusal(me, doing)
    if refusal:
        raise PermissionDenied(refusal)


def _user(s: Session, account_id: int, login: str) -> User:
    validate.refuse_not_unicode(login, "login", "Login")  # no database can look it up
    login = login.strip()
    # No login holds NUL (PostgreSQL cannot even compare text with it): nobody by that name.
    u = (
        None
        if "\x00" in login
        else s.exec(select(User).where(User.account_id == account_id, User.login == login)).first()
    )
    if u is None:
        raise NotFound(f"No user with the login {login!r} in this account.")
    return u


def _owners(s: Session, account_id: int) -> int:
    return int(
        s.exec(
            select(func.count())
            .select_from(User)
            .where(User.account_id == account_id, User.role == "owner")
        ).one()
    )


def _info(u: User) -> UserInfo:
    return UserInfo(u.id or 0, u.login, u.name, u.role, u.can_manage, u.last_seen_at)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def add(
    store: Store,
    by: By,
    login: str,
    *,
    name: str = "",
    role: str = "member",
    can_manage: bool = False,
) -> UserInfo:
    """Add a user by operating-system login (``validate.login``: letters, digits,
    '.', '_', '-', '@', '\\'; no spaces or control characters). An owner always
    has the permission."""
    login = validate.login(login)
    if isinstance(name, str) and not name.strip():
        name = login
    else:
        name = validate.name(name, field="name", what="Name", max_len=200)
    _check_role(role)
    taken = f"A user with the login {login!r} already exists."
    with change(store, by, "add users", check=_require_owner) as c:
        s = c.s
        c.unique(
            s.exec(select(User.id).where(User.login == login)).first() is not None, "login", taken
        )
        u = User(
            account_id=by.account_id,
            login=login,
            name=name,
            role=role,
            can_manage=can_manage or role == "owner",
            created_at=clock.now(),
        )
        s.add(u)
        s.flush()
        c.log("user.add", "user", u.id, login, f"role {u.role}; permission {_yes(u.can_manage)}")
        return _info(u)


def _permission_doing(can_manage: bool) -> str:
    return "grant permissions" if can_manage else "withdraw permissions"


def _role_doing(role: str) -> str:
    return "promote users" if role == "owner" else "demote users"


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValidationError("role", "Role must be owner or member.")


def _set_permission(c: Change, u: User, can_manage: bool) -> None:
    refusal = owner_permission_refusal(u.login, is_owner=u.role == "owner", can_manage=can_manage)
    if refusal:
        raise Conflict(refusal)
    if u.can_manage != can_manage:
        u.can_manage = can_manage
        c.s.add(u)
        c.log("user.grant" if can_manage else "user.withdraw", "user", u.id, u.login, PERMISSION)


def _set_role(c: Change, u: User, role: str) -> None:
    if u.role == role:
        return
    refusal = user_demote_refusal(
        u.login,
        is_owner=u.role == "owner",
        owners=_owners(c.s, c.who.account_id) if u.role == "owner" else 0,
    )
    if refusal:
        raise Conflict(refusal)
    before = u.role
    u.role = role
    if role == "owner":
        u.can_manage = True
    c.s.add(u)
    c.log(
        "user.promote" if role == "owner" else "user.demote",
        "user",
        u.id,
        u.login,
        f"role {before} -> {role}; permission {_yes(u.can_manage)}",
    )


def set_permission(store: Store, by: By, login: str, can_manage: bool) -> UserInfo:
    """Grant or withdraw *Manage add-ons and integrations*. Owners always have it."""
    with change(store, by, _permission_doing(can_manage), check=_require_owner) as c:
        u = _user(c.s, by.account_id, login)
        _set_permission(c, u, can_manage)
        return _info(u)


def set_role(store: Store, by: By, login: str, role: str) -> UserInfo:
    """Make a user an owner (with the permission) or a member (keeping the
    permission they have). The last owner cannot be demoted."""
    _check_role(role)
    with change(store, by, _role_doing(role), check=_require_owner) as c:
        u = _user(c.s, by.account_id, login)
        _set_role(c, u, role)
        return _info(u)


def update(store: Store, by: By, login: str, *, role: str, can_manage: bool) -> UserInfo:
    """Save the user form: the role, then (for a member) the permission, in one
    transaction, each change audit-logged as by ``set_role`` and
    ``set_permission``. A refusal of either (the last owner demoted) changes
    neither."""
    _check_role(role)
    with change(store, by, "change users", check=anyone) as c:
        u = _user(c.s, by.account_id, login)
        # The refusal names what the form would change first, as the two calls did.
        _require_owner(
            c.s, by, _role_doing(role) if role != u.role else _permission_doing(can_manage)
        )
        _set_role(c, u, role)
        if role == "member" and can_manage != u.can_manage:
            _set_permission(c, u, can_manage)
        return _info(u)


def promote(store: Store, by: By, login: str) -> UserInfo:
    """Make ``login`` an owner (``set_role``)."""
    return set_role(store, by, login, "owner")


def demote(store: Store, by: By, login: str) -> UserInfo:
    """Make ``login`` a member (``set_role``); never the last owner."""
    return set_role(store, by, login, "member")


def remove(store: Store, by: By, login: str) -> None:
    """Remove a user from the account. Never the last owner; an owner cannot
    remove themselves from the program (another owner, or the operator, can)."""
    with change(store, by, "remove users", check=_require_owner) as c:
        u = _user(c.s, by.account_id, login)
        refusal = user_remove_refusal(
            u.login,
            is_yourself=isinstance(by, Actor) and u.id == by.user_id,
            is_owner=u.role == "owner",
            owners=_owners(c.s, by.account_id) if u.role == "owner" else 0,
        )
        if refusal:
            raise Conflict(refusal)
        detail = f"was {u.role}; permission {_yes(u.can_manage)}"
        uid, ulogin = u.id, u.login
        c.s.delete(u)
        c.log("user.remove", "user", uid, ulogin, detail)


def get(store: Store, account_id: int, login: str) -> UserInfo:
    with store.read() as s:
        return _info(_user(s, account_id, login))


def owners(store: Store, account_id: int) -> list[str]:
    """The owners' logins, alphabetically."""
    with store.read() as s:
        return list(
            s.exec(
                select(User.login)
                .where(User.account_id == account_id, User.role == "owner")
                .order_by(col(User.login))
            ).all()
        )


# Every public function above refuses wrong-typed arguments before it runs.
validate.check_public(globals())
