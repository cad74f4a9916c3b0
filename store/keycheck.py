"""How guessable a typed signing key is.

Every delivery of a signed webhook carries the platform's legacy signature,
``sha1(callback_id + key)``, and the delivery log shows it to every member of
the account, read-only ones included. Anyone who reads the log can therefore
test guesses of the key offline, as fast as their hardware computes SHA-1. A
typed key must be long, and not made of what guessers try first.

The rule, so that it can be explained in one sentence: a typed key keeps at
least ``OWN_MIN`` characters that are *its own* once these are taken out:

- common words: those passwords are made of (``password``, ``summer``,
  ``welcome``, month and day names...) and this domain's own (``webhook``,
  ``signing``, ``secret``, ``key``...), also in "leet" spelling (``p@ssw0rd``);
- years (``1900``-``2099``);
- alphabet, digit and keyboard sequences of three or more (``abc``, ``4321``,
  ``qwerty``, ``asdf``);
- repeats: a character three times or more in a row, and any part of three or
  more characters that already appeared earlier in the key.

No list can know every guessable key; this one stops the common shapes
(``Summer2026Summer2026Summer``, ``Password1234567890!!``, a word and a year
repeated) without a dependency. A generated key (``ctrl+g``) is always safe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

OWN_MIN: Final = 16

# Base words of the most common passwords, seasons, months, days, and words a
# webhook's key is likely to be made of here. Lowercase; matched anywhere.
_WORDS = """
    password passwort passwd pass word secret secrets admin administrator root login
    letmein welcome hello qwerty monkey dragon master shadow sunshine princess
    football baseball soccer hockey iloveyou love trustno freedom whatever
    starwars superman batman spiderman charlie michael jordan hunter ranger buster
    tigger jessica pepper daniel jennifer joshua maggie ashley computer internet
    mustang harley ferrari porsche orange purple yellow green black white silver
    golden diamond banana cheese chocolate cookie flower rainbow angel baby lucky
    happy dream magic money killer summer winter spring autumn season
    monday tuesday wednesday thursday friday saturday sunday
    january february march april june july august september october november
    december change changeme default guest test testing demo example sample temp
    temporary please access open sesame system network server service office
    company business account manager support production staging develop
    development backup database user username member
    webhook webhooks hook hooks signing signature sign secure security private
    public token apikey api key keys contract contracts oneflow integration
    integrations custom receiver endpoint callback event events shared
    correct horse battery staple troubador
"""
COMMON_WORDS: Final = frozenset(_WORDS.split())

# Leet spellings turned back into letters before looking for words.
_LEET: Final = str.maketrans("0134578@$!|+", "oieastbasilt")

_SEQUENCES: Final = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "qwertzuiop",
    "azertyuiop",
    "1234567890",
    "!@#$%^&*()",
)
_YEAR: Final = re.compile(r"(?:19|20)\d\d")

COMMON_WORDS_KIND = "common words"
YEARS_KIND = "years"
SEQUENCES_KIND = "sequences"
REPEATS_KIND = "repeats"


@dataclass(frozen=True)
class Guessability:
    """What of a key is guessable: its own characters and the kinds found."""

    length: int
    own: int  # characters outside every guessable part
    kinds: tuple[str, ...]  # which kinds of guessable parts were found, in a fixed order

    @property
    def guessable(self) -> bool:
        return self.own < OWN_MIN


def _lower(key: str) -> str:
    # One character for one character, so positions stay those of the key.
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in key)


def _mark(covered: list[bool], start: int, end: int) -> None:
    for i in range(start, end):
        covered[i] = True


def _words(low: str, covered: list[bool]) -> bool:
    found = False
    for text in {low, low.translate(_LEET)}:
        for word in COMMON_WORDS:
            at = text.find(word)
            while at != -1:
                _mark(covered, at, at + len(word))
                found = True
                at = text.find(word, at + 1)
    return found


def _years(low: str, covered: list[bool]) -> bool:
    found = False
    for m in _YEAR.finditer(low):
        _mark(covered, m.start(), m.end())
        found = True
    return found


def _sequences(low: str, covered: list[bool]) -> bool:
    found = False
    n = len(low)
    longest = max(len(seq) for seq in _SEQUENCES)
    for i in range(n - 2):
        for j in range(min(n, i + longest), i + 2, -1):  # the longest one starting at i
            part = low[i:j]
            if any(part in seq or part[::-1] in seq for seq in _SEQUENCES):
                _mark(covered, i, j)
                found = True
                break
    return found


def _repeats(low: str, covered: list[bool]) -> bool:
    found = False
    n = len(low)
    i = 0
    while i < n:
        # The longest part starting at i that already began earlier (it may overlap
        # itself, so "abababab" is "ab" and then repeats).
        end = i
        for j in range(i + 3, n + 1):
            if low.find(low[i:j], 0, j - 1) == -1:
                break
            end = j
        if end > i:
            _mark(covered, i, end)
            found = True
            i = end
        else:
            i += 1
    for m in re.finditer(r"(.)\1{2,}", low, flags=re.DOTALL):
        _mark(covered, m.start(), m.end())
        found = True
    return found


def guessability(key: str) -> Guessability:
    """How much of ``key`` is its own, once common words, years, sequences and
    repeats are taken out (see the module's notes)."""
    low = _lower(key)
    covered = [False] * len(low)
    kinds = []
    for kind, find in (
        (COMMON_WORDS_KIND, _words),
        (YEARS_KIND, _years),
        (SEQUENCES_KIND, _sequences),
        (REPEATS_KIND, _repeats),
    ):
        if find(low, covered):
            kinds.append(kind)
    return Guessability(len(key), covered.count(False), tuple(kinds))
