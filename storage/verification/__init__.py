"""Verification on join (SPEC section 6): the records (models) and their repository."""

from storage.verification.models import (
    ENTRY_STATUSES,
    FAILURE_WINDOW,
    IMPORT_MODES,
    MAX_FAILURES,
    Attempt,
    AttemptResult,
    Deadline,
    GuildVerification,
    NewEntry,
    Outcome,
    RosterEntry,
    VerifiedMember,
)
from storage.verification.repository import VerificationRepository

__all__ = [
    "ENTRY_STATUSES",
    "FAILURE_WINDOW",
    "IMPORT_MODES",
    "MAX_FAILURES",
    "Attempt",
    "AttemptResult",
    "Deadline",
    "GuildVerification",
    "NewEntry",
    "Outcome",
    "RosterEntry",
    "VerificationRepository",
    "VerifiedMember",
]
