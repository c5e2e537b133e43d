"""One-time verification tokens: random, typeable, stored only as a keyed hash.

A token is 16 characters of an alphabet without look-alikes (no 0/O, 1/I/L), shown in groups of
four (`K7QM-2XPA-...`): 16 × log2(31) ≈ 79 bits of entropy. What the database keeps is
HMAC-SHA256 under a per-install key (`storage.verification` keeps it in `bot_meta`), bound to
the guild: the tokens cannot be recovered from a copy of the roster table alone, and a slow
password hash is not needed because the tokens are random, not chosen by people (a 10,000-row
import would take minutes). Compare with `matches`, which runs in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata

from utils.codes import ALPHABET

TOKEN_LENGTH = 16
GROUP = 4
KEY_BYTES = 32
# What a member may type around the characters: spaces, dashes of any kind, invisible format characters.
_IGNORED = frozenset(" \t-_.")


def new_token() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(TOKEN_LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, TOKEN_LENGTH, GROUP))


def normalize_token(typed: str) -> str:
    """What the member meant: NFKC (fullwidth letters from an IME), upper case, and no
    separators or zero-width characters."""
    folded = unicodedata.normalize("NFKC", typed).upper()
    return "".join(ch for ch in folded if ch not in _IGNORED and unicodedata.category(ch) not in ("Cf", "Zs", "Pd"))


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def token_digest(key: bytes, guild_id: int, token: str) -> str:
    message = f"{guild_id}:{normalize_token(token)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def matches(stored_digest: str, digest: str) -> bool:
    return hmac.compare_digest(stored_digest.encode(), digest.encode())
