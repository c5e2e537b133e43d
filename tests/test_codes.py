"""Rotating codes: properties that must hold for every secret and window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from utils.codes import ALPHABET, Verdict, check_code, normalize, window_at, window_code, window_start
from utils.csv_export import build_csv, neutralize

OPENED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
secrets_ = st.binary(min_size=32, max_size=32)


@given(secret=secrets_, window=st.integers(0, 10**8), length=st.integers(3, 8))
def test_consecutive_codes_never_repeat(secret, window, length):
    assert window_code(secret, window, length) != window_code(secret, window + 1, length)


@given(secret=secrets_, window=st.integers(0, 10**8), length=st.integers(3, 8))
def test_codes_use_only_unambiguous_characters(secret, window, length):
    code = window_code(secret, window, length)
    assert len(code) == length
    assert set(code) <= set(ALPHABET)
    assert not set(code) & set("0O1IL")


@given(secret=secrets_, window=st.integers(0, 1000))
def test_codes_are_recomputable_from_the_secret(secret, window):
    assert window_code(secret, window, 6) == window_code(bytes(secret), window, 6)


def test_different_secrets_give_different_codes():
    assert window_code(b"a" * 32, 7, 8) != window_code(b"b" * 32, 7, 8)


@given(text=st.text(alphabet=ALPHABET.lower() + ALPHABET + " -\t", max_size=12))
def test_normalize_ignores_case_spaces_and_dashes(text):
    assert normalize(text) == text.upper().replace(" ", "").replace("-", "").replace("\t", "")


# Zero-width space, non-joiner, joiner, word joiner, byte-order mark, soft hyphen (all Cf).
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
# Hyphen, en dash, em dash, minus-like fullwidth hyphen, ideographic space, backtick.
SEPARATORS = " -\u2010\u2013\u2014\uff0d\u3000`"


def fullwidth(text: str) -> str:
    """What a Japanese or Chinese IME types for ASCII letters and digits."""
    return "".join(chr(ord(character) + 0xFEE0) if "!" <= character <= "~" else character for character in text)


@st.composite
def typed_versions(draw: st.DrawFn) -> tuple[str, str]:
    """A code and one way a member might type or paste it."""
    code = draw(st.text(alphabet=ALPHABET, min_size=3, max_size=8))
    typed = []
    for character in code:
        typed.append(draw(st.text(alphabet=INVISIBLE + SEPARATORS, max_size=2)))
        if draw(st.booleans()):
            character = character.lower()
        typed.append(fullwidth(character) if draw(st.booleans()) else character)
    typed.append(draw(st.text(alphabet=INVISIBLE + SEPARATORS, max_size=2)))
    prefix = draw(st.sampled_from(["", "/here ", "/HERE", "`/here ", "\u200b/here\u00a0", fullwidth("/here") + " "]))
    return code, prefix + "".join(typed)


@given(typed_versions())
def test_normalize_recovers_the_code_from_how_members_type_and_paste_it(version):
    code, typed = version
    assert normalize(typed) == code


def test_normalize_examples():
    assert normalize("ＡＢＣＤ") == "ABCD"
    assert normalize("ａｂｃｄ") == "ABCD"
    assert normalize("A\u200bB\ufeffC\u2060D") == "ABCD"
    assert normalize("`ABCD`") == "ABCD"
    assert normalize("``` abcd ```") == "ABCD"
    assert normalize("/here ab-cd") == "ABCD"
    assert normalize("AB–CD") == "ABCD"


def test_normalize_does_not_invent_a_code():
    assert normalize("/here") == ""
    assert normalize("\u200b\ufeff") == ""
    # Only the pasted command is dropped: letters that happen to spell HERE stay.
    assert normalize("HEREABCD") == "HEREABCD"


@given(text=st.text(max_size=32))
def test_normalize_never_fails_and_keeps_no_invisible_characters(text):
    normalized = normalize(text)
    assert not set(normalized) & set(INVISIBLE + SEPARATORS)
    assert normalized == normalized.upper()


def test_window_arithmetic():
    assert window_at(OPENED, 15, OPENED) == 0
    assert window_at(OPENED, 15, OPENED + timedelta(seconds=14.999)) == 0
    assert window_at(OPENED, 15, OPENED + timedelta(seconds=15)) == 1
    assert window_start(OPENED, 15, 2) == OPENED + timedelta(seconds=30)


def verdict(typed, now, *, grace=3):
    return check_code(
        typed, secret=b"s" * 32, opened_at=OPENED, interval_seconds=15, grace_seconds=grace, length=4, now=now
    )


def test_grace_boundary():
    previous = window_code(b"s" * 32, 0, 4)
    boundary = OPENED + timedelta(seconds=15)
    assert verdict(previous, boundary + timedelta(seconds=2.999)) is Verdict.PREVIOUS_IN_GRACE
    assert verdict(previous, boundary + timedelta(seconds=3)) is Verdict.EXPIRED
    assert verdict(previous, boundary + timedelta(seconds=1), grace=0) is Verdict.EXPIRED


def test_garbage_is_wrong_not_an_error():
    now = OPENED + timedelta(seconds=1)
    for typed in ("", "🎉🎉🎉🎉", "'; DROP TABLE attendance_record; --", "O0O0", "abcdefghijkl"):
        assert verdict(typed, now) is Verdict.WRONG


@given(value=st.text(max_size=20))
def test_csv_cells_never_start_with_a_formula_character(value):
    assert not neutralize(value).startswith(("=", "+", "-", "@", "\t", "\r"))


def test_csv_has_bom_header_and_escapes_formulas():
    data = build_csv(["name"], [["=1+1"], ["@SUM(A1)"], ["+1"], ["-1"], ["plain"]])
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").splitlines() == ["name", "'=1+1", "'@SUM(A1)", "'+1", "'-1", "plain"]
