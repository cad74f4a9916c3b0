"""Input checks shared by the domain modules.

Two kinds: the domain's rules for text (``name``, ``text``, ``login``), called
by the functions that take it, and the types of every argument of every public
store function (``check_public``, at the end of each domain module), checked
against the function's annotations before it runs: a bool where a bool is
expected (not the string 'yes'), ids that can exist, limits that are whole
numbers, lists of text. So a call with a wrong-typed argument is refused with
a ValidationError naming the argument, and changes nothing.
"""

from __future__ import annotations

import functools
import inspect
import math
import types
import typing
import unicodedata
from collections.abc import Callable, Iterable
from datetime import datetime

from .errors import ValidationError

# Characters that change how the text around them is shown while being invisible
# themselves: a name holding one can look like another name, or like nothing.
# Bidirectional embeddings, overrides and isolates reorder what follows them
# ("Trojan Source"): U+202E makes "gnp.exe" read as "exe.png".
BIDI_CONTROLS = frozenset([*map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))])
BIDI_MARKS = frozenset("\u200e\u200f\u061c")  # LRM, RLM, ALM: invisible direction marks
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")
LINE_SEPARATORS = frozenset("\u2028\u2029")
INVISIBLE = BIDI_CONTROLS | BIDI_MARKS | ZERO_WIDTH | LINE_SEPARATORS


def describe_char(ch: str) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE``: a character named so one can find it."""
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed character')}"


def _refuse_invisible(cleaned: str, field: str, what: str) -> None:
    """Refuse control, formatting and invisible characters, naming the first one."""
    for ch in cleaned:
        category = unicodedata.category(ch)
        if category == "Cc":
            raise ValidationError(
                field, f"{what} cannot contain control characters or line breaks."
            )
        if category in ("Zl", "Zp"):
            raise ValidationError(
                field, f"{what} cannot contain a line break ({describe_char(ch)})."
            )
        if category == "Cf":
            kind = "an invisible" if ch in INVISIBLE else "a formatting"
            raise ValidationError(
                field, f"{what} contains {kind} character ({describe_char(ch)}): remove it."
            )


def not_unicode(text: str) -> bool:
    """True when ``text`` holds lone surrogates: what Python makes of bytes that
    are not UTF-8 (command-line arguments, a terminal paste). No database can
    store them, so they are refused like any other bad input."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def refuse_not_unicode(value: str, field: str, what: str) -> None:
    """Refuse text holding bytes that are not UTF-8 (see ``not_unicode``)."""
    if not_unicode(value):
        raise ValidationError(
            field, f"{what} contains bytes that are not valid text (not UTF-8); retype it."
        )


def name(value: object, *, field: str = "name", what: str = "Name", max_len: int = 100) -> str:
    """A trimmed, single-line name of 1..max_len characters."""
    if not isinstance(value, str):
        raise ValidationError(field, f"{what} must be text.")
    refuse_not_unicode(value, field, what)
    cleaned = value.strip()
    if not cleaned:
        raise ValidationError(field, f"{what} is required.")
    if len(cleaned) > max_len:
        raise ValidationError(
            field, f"{what} is {len(cleaned)} characters long; at most {max_len} are allowed."
        )
    _refuse_invisible(cleaned, field, what)
    return cleaned


# An operating-system login (POSIX's portable characters, plus '@' and '\\' for
# directory logins such as user@example.com or EXAMPLE\\user), letters of any
# script included; never a leading '-' (it would read as an option).
LOGIN_MAX = 64
_LOGIN_PUNCTUATION = frozenset("._-@\\")


def login(value: object, *, field: str = "login") -> str:
    """A trimmed operating-system login: letters, digits, '.', '_', '-', '@' and
    '\\', at most 64 characters, not starting with '-'."""
    cleaned = name(value, field=field, what="Login", max_len=LOGIN_MAX)
    for ch in cleaned:
        if not (ch.isalnum() or ch in _LOGIN_PUNCTUATION):
            shown = "a space" if ch.isspace() else f"'{ch}'"
            raise ValidationError(
                field,
                f"A login cannot contain {shown}: an operating-system login is made of "
                "letters, digits, '.', '_', '-', '@' and '\\'.",
            )
    if cleaned.startswith("-"):
        raise ValidationError(field, "A login cannot start with '-'.")
    return cleaned


def text(
    value: object, *, field: str = "description", what: str = "Description", max_len: int = 2000
) -> str:
    """Free text (line breaks and tabs allowed, other control characters not)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(field, f"{what} must be text.")
    refuse_not_unicode(value, field, what)
    cleaned = value.strip()
    if len(cleaned) > max_len:
        raise ValidationError(
            field, f"{what} is {len(cleaned)} characters long; at most {max_len} are allowed."
        )
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in cleaned):
        raise ValidationError(field, f"{what} cannot contain control characters.")
    # Free text keeps the invisible characters that writing needs (zero-width
    # joiners in emoji and Indic scripts, direction marks in Arabic and Hebrew),
    # but not those that reorder the text around them, nor Unicode's own line
    # separators (a line break is typed as one).
    for ch in cleaned:
        if ch in BIDI_CONTROLS:
            raise ValidationError(
                field,
                f"{what} contains an invisible character ({describe_char(ch)}) that "
                "reorders the text around it: remove it.",
            )
        if ch in LINE_SEPARATORS:
            raise ValidationError(
                field,
                f"{what} cannot contain {describe_char(ch)}: use an ordinary line break.",
            )
    return cleaned


# C0 controls (but line feed and tab) shown as their Unicode control pictures
# (ESC as ␛, NUL as ␀), DEL as ␡, C1 controls as U+FFFD.
_PICTURES = {c: 0x2400 + c for c in range(0x20) if chr(c) not in "\n\t"}
_PICTURES[0x7F] = 0x2421
_PICTURES.update({c: 0xFFFD for c in range(0x80, 0xA0)})
# Invisible characters (bidi controls and marks, zero-width, line separators) shown
# by their code point, e.g. ⟨U+202E⟩: visible, and reordering nothing.
_VISIBLE: dict[int, int | str] = {**_PICTURES}
_VISIBLE.update({ord(ch): f"⟨U+{ord(ch):04X}⟩" for ch in INVISIBLE})


def printable(text: str) -> str:
    """Text from outside (a webhook receiver's answer) or quoted in an audit
    entry, made safe to store and to show: no terminal escape sequence, bell or
    NUL survives, nor an invisible character that reorders or hides text, yet
    one can still see that they were there (␛, ␀, ⟨U+202E⟩)."""
    return text.translate(_VISIBLE)


# -- the types of the arguments of public store functions ---------------------------

# Ids are the database's INTEGER columns (32 bits on PostgreSQL): an id outside
# 0..2**31-1 names nothing that can exist (0 names nothing either, but stands for
# "none" in places, such as the sample contract of a test delivery: a lookup of it
# is simply not found). Other whole numbers (limits, counts, versions, seconds)
# are non-negative and fit SQL's BIGINT.
MAX_ID = 2**31 - 1
MAX_INT = 2**63 - 1
_AT_LEAST_ONE = frozenset({"batch"})  # counts where 0 makes no sense

Check = Callable[[object], None]


def _label(param: str) -> str:
    return param.replace("_", " ").capitalize()


def _is_id(param: str) -> bool:
    return param == "id" or param.endswith("_id")


def _int_check(param: str) -> Check:
    low, high = (0, MAX_ID) if _is_id(param) else (0, MAX_INT)
    if param in _AT_LEAST_ONE:
        low = 1
    what = "an id" if _is_id(param) else "a whole number"

    def check(value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValidationError(
                param, f"{_label(param)} must be {what} from {low} to {high}, not {_shown(value)}."
            )

    return check


def _shown(value: object) -> str:
    """A wrong value, briefly, for a message (never long, never a secret's worth)."""
    if isinstance(value, bool | int | float) or value is None:
        text = repr(value)
        return text if len(text) <= 30 else text[:29] + "…"
    return f"a {type(value).__name__}"


def _simple(param: str, kind: type, what: str) -> Check:
    def check(value: object) -> None:
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise ValidationError(param, f"{_label(param)} must be {what}, not {_shown(value)}.")

    return check


def _float_check(param: str) -> Check:
    def check(value: object) -> None:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ValidationError(param, f"{_label(param)} must be a number, not {_shown(value)}.")

    return check


def _checker(param: str, hint: object) -> Check | None:
    """A check of ``hint`` (an annotation) for the argument ``param``; None when
    the annotation is not one this checks (a session, a stream, any object)."""
    if hint is bool:
        return _simple(param, bool, "true or false")
    if hint is int:
        return _int_check(param)
    if hint is float:
        return _float_check(param)
    if hint is str:
        is_str = _simple(param, str, "text")

        def text_check(value: object) -> None:
            is_str(value)
            refuse_not_unicode(value, param, _label(param))  # type: ignore[arg-type]

        return text_check
    if hint is datetime:
        return _simple(param, datetime, "a date and time")
    if hint is type(None):
        return _simple(param, type(None), "nothing")
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        members = [_checker(param, a) for a in args]
        if any(m is None for m in members):
            return None

        def either(value: object) -> None:
            first: ValidationError | None = None
            for m in members:
                try:
                    m(value)  # type: ignore[misc]
                    return
                except ValidationError as exc:
                    first = first or exc
            assert first is not None
            raise first

        return either
    if origin in (list, tuple) or (origin is not None and origin.__name__ == "Sequence"):
        element = args[0] if args else object
        each = _checker(param, element)

        def sequence(value: object) -> None:
            if not isinstance(value, list | tuple):
                raise ValidationError(
                    param, f"{_label(param)} must be a list, not {_shown(value)}."
                )
            if each is not None:
                for item in value:
                    each(item)

        return sequence
    if origin is dict:
        keys, values = (_checker(param, a) for a in (args or (object, object)))

        def mapping(value: object) -> None:
            if not isinstance(value, dict):
                raise ValidationError(
                    param, f"{_label(param)} must be a mapping, not {_shown(value)}."
                )
            for k, v in value.items():
                if keys is not None:
                    keys(k)
                if values is not None:
                    values(v)

        return mapping
    if hint in (typing.TextIO, typing.IO):

        def stream(value: object) -> None:
            if not callable(getattr(value, "write", None)):
                raise ValidationError(
                    param, f"{_label(param)} must be a stream to write to, not {_shown(value)}."
                )

        return stream
    if isinstance(hint, type) and hint.__module__.startswith("store."):
        what = f"a {hint.__name__}"
        return _simple(param, hint, what)
    return None


def _known_types() -> dict[str, object]:
    """Classes a module may import only for type checkers (to avoid an import cycle)."""
    from .db import Store

    return {"Store": Store}


def _hints(fn: Callable) -> dict[str, object]:
    known = _known_types()
    try:
        return typing.get_type_hints(fn, localns=known)
    except Exception:  # an annotation only for type checkers: check the others
        hints: dict[str, object] = {}
        for param, text in fn.__annotations__.items():
            try:
                hints[param] = eval(text, fn.__globals__, known) if isinstance(text, str) else text
            except Exception:
                continue
        return hints


def _plan(
    fn: Callable, own: frozenset[str] = frozenset()
) -> tuple[list[Check | None], dict[str, Check]]:
    hints = _hints(fn)
    positional: list[Check | None] = []
    named: dict[str, Check] = {}
    for param in inspect.signature(fn).parameters.values():
        hint = hints.get(param.name) if param.name not in own else None
        check = _checker(param.name, hint) if hint is not None else None
        if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            positional.append(check)
        if check is not None and param.kind != param.VAR_POSITIONAL:
            named[param.name] = check
    return positional, named


def checked(fn: Callable, *, own: Iterable[str] = ()) -> Callable:
    """``fn``, refusing arguments whose type does not match its annotations
    (ValidationError naming the argument) before it runs; ``own`` names the
    arguments ``fn`` checks itself, with its own words. The checks are worked out
    at the first call, so importing costs nothing."""
    plan: tuple[list[Check | None], dict[str, Check]] | None = None
    own = frozenset(own)

    def check(args: tuple, kwargs: dict) -> None:
        nonlocal plan
        if plan is None:
            plan = _plan(fn, own)
        positional, named = plan
        for value, each in zip(args, positional, strict=False):  # *args: unchecked
            if each is not None:
                each(value)
        for key, value in kwargs.items():
            each = named.get(key)
            if each is not None:
                each(value)

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def checked_async(*args, **kwargs):
            check(args, kwargs)
            return await fn(*args, **kwargs)

        checked_async.__checked__ = True  # type: ignore[attr-defined]
        return checked_async

    @functools.wraps(fn)
    def checked_sync(*args, **kwargs):
        check(args, kwargs)
        return fn(*args, **kwargs)

    checked_sync.__checked__ = True  # type: ignore[attr-defined]
    return checked_sync


def unchecked(fn: Callable) -> Callable:
    """``fn`` without the argument checks ``check_public`` gave it: for a store
    module calling another's public function on its hottest path with
    arguments it made itself (the API's per-request token check)."""
    return fn.__wrapped__ if getattr(fn, "__checked__", False) else fn  # type: ignore[attr-defined]


def check_public(
    namespace: dict[str, object], *, own: dict[str, Iterable[str]] | None = None
) -> None:
    """Give every public function defined in the module of ``namespace`` (its
    ``globals()``) the argument checks of ``checked``. Called once, at the end
    of each domain module, so a new public function is checked too. ``own``:
    function name -> the arguments it checks itself (a better field or message)."""
    module = namespace["__name__"]
    own = own or {}
    for key, value in list(namespace.items()):
        if (
            not key.startswith("_")
            and inspect.isfunction(value)
            and value.__module__ == module
            and not getattr(value, "__checked__", False)
        ):
            namespace[key] = checked(value, own=own.get(key, ()))
