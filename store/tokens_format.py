"""The API token format: a scanner-matchable prefix, random base62, a checksum.

``iadm_`` + 29 random base62 characters + 6 base62 characters of CRC32 of the
random part = 40 characters. The checksum lets a malformed or mistyped token
be refused without touching the database, and lets secret scanners tell a
real token from random text (the scheme GitHub's tokens use).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
import zlib

PREFIX = "iadm_"
LENGTH = 40
CHECKSUM_LEN = 6
RANDOM_LEN = LENGTH - len(PREFIX) - CHECKSUM_LEN  # 29 characters, ~172 bits
ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase  # base62
_BASE62_ONLY = re.compile("[0-9A-Za-z]*")  # ASCII only: not str.isalnum's other scripts


def _base62(n: int, width: int) -> str:
    out = []
    for _ in range(width):
        n, r = divmod(n, 62)
        out.append(ALPHABET[r])
    return "".join(reversed(out))


def checksum(random_part: str) -> str:
    return _base62(zlib.crc32(random_part.encode("ascii")), CHECKSUM_LEN)


def new_token() -> str:
    """A fresh token. Show it once, keep only ``token_hash`` and ``hint``."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LEN))
    return PREFIX + body + checksum(body)


def malformation(token: object) -> str | None:
    """Why ``token`` is not a well-formed token, or None when it is.

    The explanation never repeats the token (it may be a real one, mistyped).
    """
    if not isinstance(token, str):
        return "a token is text"
    if not token:
        return "no token given"
    if not token.startswith(PREFIX):
        return f"it does not start with {PREFIX}"
    if len(token) != LENGTH:
        return f"it is {len(token)} characters long instead of {LENGTH}"
    if _BASE62_ONLY.fullmatch(token, len(PREFIX)) is None:
        return "it contains characters other than letters and digits after the prefix"
    body = token[len(PREFIX) : len(PREFIX) + RANDOM_LEN]
    if not secrets.compare_digest(checksum(body), token[-CHECKSUM_LEN:]):
        return "its checksum does not match (mistyped or altered)"
    return None


def is_well_formed(token: object) -> bool:
    return malformation(token) is None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hint(token: str) -> str:
    return f"{PREFIX}…{token[-4:]}"
