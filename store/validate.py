"""Input checks shared by the domain modules."""

from __future__ import annotations

import unicodedata

from .errors import ValidationError


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text)


def not_unicode(text: str) -> bool:
    """True when ``text`` holds lone surrogates: what Python makes of bytes that
    are not UTF-8 (command-line arguments, a terminal paste). No database can
    store them, so they are refused like any other bad input."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _refuse_not_unicode(value: str, field: str, what: str) -> None:
    if not_unicode(value):
        raise ValidationError(
            field, f"{what} contains bytes that are not valid text (not UTF-8); retype it."
        )


def name(value: object, *, field: str = "name", what: str = "Name", max_len: int = 100) -> str:
    """A trimmed, single-line name of 1..max_len characters."""
    if not isinstance(value, str):
        raise ValidationError(field, f"{what} must be text.")
    _refuse_not_unicode(value, field, what)
    cleaned = value.strip()
    if not cleaned:
        raise ValidationError(field, f"{what} is required.")
    if len(cleaned) > max_len:
        raise ValidationError(
            field, f"{what} is {len(cleaned)} characters long; at most {max_len} are allowed."
        )
    if _has_control(cleaned):
        raise ValidationError(field, f"{what} cannot contain control characters or line breaks.")
    return cleaned


def text(
    value: object, *, field: str = "description", what: str = "Description", max_len: int = 2000
) -> str:
    """Free text (line breaks and tabs allowed, other control characters not)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(field, f"{what} must be text.")
    _refuse_not_unicode(value, field, what)
    cleaned = value.strip()
    if len(cleaned) > max_len:
        raise ValidationError(
            field, f"{what} is {len(cleaned)} characters long; at most {max_len} are allowed."
        )
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in cleaned):
        raise ValidationError(field, f"{what} cannot contain control characters.")
    return cleaned


# C0 controls (but line feed and tab) shown as their Unicode control pictures
# (ESC as ␛, NUL as ␀), DEL as ␡, C1 controls as U+FFFD.
_PICTURES = {c: 0x2400 + c for c in range(0x20) if chr(c) not in "\n\t"}
_PICTURES[0x7F] = 0x2421
_PICTURES.update({c: 0xFFFD for c in range(0x80, 0xA0)})


def printable(text: str) -> str:
    """Text from outside (a webhook receiver's answer) made safe to store and to
    show: no terminal escape sequence, bell or NUL survives, yet one can still
    see that they were there."""
    return text.translate(_PICTURES)
