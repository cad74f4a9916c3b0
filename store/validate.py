"""Input checks shared by the domain modules."""

from __future__ import annotations

import unicodedata

from .errors import ValidationError


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text)


def name(value: object, *, field: str = "name", what: str = "Name", max_len: int = 100) -> str:
    """A trimmed, single-line name of 1..max_len characters."""
    if not isinstance(value, str):
        raise ValidationError(field, f"{what} must be text.")
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
    cleaned = value.strip()
    if len(cleaned) > max_len:
        raise ValidationError(
            field, f"{what} is {len(cleaned)} characters long; at most {max_len} are allowed."
        )
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in cleaned):
        raise ValidationError(field, f"{what} cannot contain control characters.")
    return cleaned
