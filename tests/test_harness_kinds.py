"""`Sent.kind` is a closed set: a misspelt kind raises wherever a test names one, so a
negative assertion about what the bot sent cannot pass because of a typo."""

from __future__ import annotations

import pytest

from tests.harness import Sent


async def test_of_kind_refuses_a_misspelt_kind(h, discord_side):
    await h.command("attendance status", user="admin")
    with pytest.raises(ValueError, match="'edti' is not a kind"):
        discord_side.of_kind("edti")


async def test_an_interaction_result_refuses_a_misspelt_kind(h):
    result = await h.command("attendance status", user="admin")
    assert result.of_kind("response")
    with pytest.raises(ValueError, match="'respnse' is not a kind"):
        result.of_kind("respnse")


async def test_comparing_a_kind_with_a_misspelt_one_raises(h, discord_side):
    await h.command("attendance status", user="admin")
    sent = discord_side.sent[-1]
    assert sent.kind == "response"
    assert sent.kind != "followup"
    with pytest.raises(ValueError, match="'respone' is not a kind"):
        _ = [item for item in discord_side.sent if item.kind == "respone"]
    with pytest.raises(ValueError, match="'folowup' is not a kind"):
        _ = sent.kind in ("folowup", "edit_response")


def test_a_sent_record_of_an_unknown_kind_cannot_be_made():
    with pytest.raises(ValueError, match="'reply' is not a kind"):
        Sent("reply")  # type: ignore[arg-type]
