"""Rotating roll-call codes.

A code is derived from the session's secret and the window number with HMAC-SHA256, so
the code at any moment can be recomputed after a restart and nothing per window is
stored. The last character of even windows comes from one half of the alphabet and of odd
windows from the other half, so two consecutive codes can never be equal.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import secrets
import unicodedata
from datetime import datetime, timedelta
from enum import Enum

# No 0/O, 1/I/L: codes are read off a projector and typed on phones.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
EVEN_TAIL = ALPHABET[0::2]
ODD_TAIL = ALPHABET[1::2]
SECRET_BYTES = 32
# How far back a typed code is recognised as "expired" rather than simply wrong.
EXPIRED_LOOKBACK_WINDOWS = 1000


def new_secret() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def window_code(secret: bytes, window: int, length: int) -> str:
    digest = hmac.new(secret, window.to_bytes(8, "big", signed=True), hashlib.sha256).digest()
    number = int.from_bytes(digest, "big")
    characters = []
    for _ in range(length - 1):
        number, index = divmod(number, len(ALPHABET))
        characters.append(ALPHABET[index])
    tail = EVEN_TAIL if window % 2 == 0 else ODD_TAIL
    characters.append(tail[number % len(tail)])
    return "".join(characters)


# A burst of answers checks the same one or two windows thousands of times; the expired
# lookback stays uncached so that a wrong code cannot evict the codes in use.
_recent_window_code = functools.lru_cache(maxsize=1024)(window_code)


# What a pasted `/here ABCD` leaves in the option once normalised.
PASTED_COMMAND = "/HERE"
# Backticks come with a code copied from a Discord code span.
_DROPPED_CHARACTERS = str.maketrans("", "", "`-")


def normalize(typed: str) -> str:
    """What a member meant to type: NFKC folds fullwidth IME letters and other compatibility
    forms to plain ones; invisible format characters (zero-width spaces, byte-order marks),
    spaces, dashes of any kind, backticks, case and a pasted leading `/here` do not matter."""
    if not typed.isascii():
        typed = "".join(
            character
            for character in unicodedata.normalize("NFKC", typed)
            if unicodedata.category(character) not in ("Cf", "Pd")
        )
    code = "".join(typed.split()).translate(_DROPPED_CHARACTERS).upper()
    return code.removeprefix(PASTED_COMMAND)


def window_at(opened_at: datetime, interval_seconds: int, now: datetime) -> int:
    elapsed = (now - opened_at).total_seconds()
    return max(0, math.floor(elapsed / interval_seconds))


def window_start(opened_at: datetime, interval_seconds: int, window: int) -> datetime:
    return opened_at + timedelta(seconds=interval_seconds * window)


class Verdict(Enum):
    CURRENT = "current"
    PREVIOUS_IN_GRACE = "previous_in_grace"
    EXPIRED = "expired"
    WRONG = "wrong"

    @property
    def accepted(self) -> bool:
        return self in (Verdict.CURRENT, Verdict.PREVIOUS_IN_GRACE)


def check_code(
    typed: str,
    *,
    secret: bytes,
    opened_at: datetime,
    interval_seconds: int,
    grace_seconds: int,
    length: int,
    now: datetime,
) -> Verdict:
    code = normalize(typed)
    if len(code) != length or any(ch not in ALPHABET for ch in code):
        return Verdict.WRONG
    window = window_at(opened_at, interval_seconds, now)
    if hmac.compare_digest(code, _recent_window_code(secret, window, length)):
        return Verdict.CURRENT
    if window > 0 and hmac.compare_digest(code, _recent_window_code(secret, window - 1, length)):
        into_window = (now - window_start(opened_at, interval_seconds, window)).total_seconds()
        return Verdict.PREVIOUS_IN_GRACE if into_window < grace_seconds else Verdict.EXPIRED
    oldest = max(0, window - EXPIRED_LOOKBACK_WINDOWS)
    for earlier in range(window - 2, oldest - 1, -1):
        if hmac.compare_digest(code, window_code(secret, earlier, length)):
            return Verdict.EXPIRED
    return Verdict.WRONG
