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

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from . import audit, clock, validate
from .accounts import PERMISSION, Actor, UserInfo, list_users
from .db import Store
from .errors import Conflict, NotFound, PermissionDenied, UnknownUser, ValidationError
from .models import User

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
    """Refuse unless ``by`` is an operator or, now, an owner of the account."""
    if isinstance(by, Operator):
        return
    me = s.get(User, by.user_id)
    if me is None or me.account_id != by.account_id:
        raise UnknownUser(f"The user {by.login!r} was removed from this account.")
    if me.role != "owner":
        raise PermissionDenied(
            f"You cannot {doing}: only an owner of the account manages users. "
            "Ask an owner to do it."
        )


def _user(s: Session, account_id: int, login: str) -> User:
    validate.refuse_not_unicode(login, "login", "Login")  # no database can look it up
    login = login.strip()
    u = s.exec(select(User).where(User.account_id == account_id, User.login == login)).first()
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
    if role not in ROLES:
        raise ValidationError("role", "Role must be owner or member.")
    taken = f"A user with the login {login!r} already exists."
    try:
        with store.write(by.account_id) as s:
            _require_owner(s, by, "add users")
            if s.exec(select(User.id).where(User.login == login)).first() is not None:
                raise ValidationError("login", taken)
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
            audit.record(
                s,
                account_id=by.account_id,
                actor=_label(by),
                action="user.add",
                object_type="user",
                object_id=u.id,
                object_name=login,
                detail=f"role {u.role}; permission {_yes(u.can_manage)}",
            )
            return _info(u)
    except IntegrityError:
        raise ValidationError("login", taken) from None


def set_permission(store: Store, by: By, login: str, can_manage: bool) -> UserInfo:
    """Grant or withdraw *Manage add-ons and integrations*. Owners always have it."""
    doing = "grant permissions" if can_manage else "withdraw permissions"
    with store.write(by.account_id) as s:
        _require_owner(s, by, doing)
        u = _user(s, by.account_id, login)
        if u.role == "owner" and not can_manage:
            raise Conflict(
                f"{u.login} is an owner, and an owner always has the permission: "
                "demote them to member first."
            )
        if u.can_manage != can_manage:
            u.can_manage = can_manage
            s.add(u)
            audit.record(
                s,
                account_id=by.account_id,
                actor=_label(by),
                action="user.grant" if can_manage else "user.withdraw",
                object_type="user",
                object_id=u.id,
                object_name=u.login,
                detail=PERMISSION,
            )
        return _info(u)


def set_role(store: Store, by: By, login: str, role: str) -> UserInfo:
    """Make a user an owner (with the permission) or a member (keeping the
    permission they have). The last owner cannot be demoted."""
    if role not in ROLES:
        raise ValidationError("role", "Role must be owner or member.")
    doing = "promote users" if role == "owner" else "demote users"
    with store.write(by.account_id) as s:
        _require_owner(s, by, doing)
        u = _user(s, by.account_id, login)
        if u.role == role:
            return _info(u)
        if u.role == "owner" and _owners(s, by.account_id) <= 1:
            raise Conflict(
                f"{u.login} is the last owner of the account and cannot be demoted: "
                "promote another user to owner first."
            )
        before = u.role
        u.role = role
        if role == "owner":
            u.can_manage = True
        s.add(u)
        audit.record(
            s,
            account_id=by.account_id,
            actor=_label(by),
            action="user.promote" if role == "owner" else "user.demote",
            object_type="user",
            object_id=u.id,
            object_name=u.login,
            detail=f"role {before} -> {role}; permission {_yes(u.can_manage)}",
        )
        return _info(u)


def promote(store: Store, by: By, login: str) -> UserInfo:
    return set_role(store, by, login, "owner")


def demote(store: Store, by: By, login: str) -> UserInfo:
    return set_role(store, by, login, "member")


def remove(store: Store, by: By, login: str) -> None:
    """Remove a user from the account. Never the last owner; an owner cannot
    remove themselves from the program (another owner, or the operator, can)."""
    with store.write(by.account_id) as s:
        _require_owner(s, by, "remove users")
        u = _user(s, by.account_id, login)
        if isinstance(by, Actor) and u.id == by.user_id:
            raise Conflict(
                "You cannot remove yourself: ask another owner, or use the command line."
            )
        if u.role == "owner" and _owners(s, by.account_id) <= 1:
            raise Conflict(
                f"{u.login} is the last owner of the account and cannot be removed: "
                "promote another user to owner first."
            )
        detail = f"was {u.role}; permission {_yes(u.can_manage)}"
        uid, ulogin = u.id, u.login
        s.delete(u)
        audit.record(
            s,
            account_id=by.account_id,
            actor=_label(by),
            action="user.remove",
            object_type="user",
            object_id=uid,
            object_name=ulogin,
            detail=detail,
        )


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
