"""Keeping what members type into the verification modal out of discord.py's DEBUG log.

At DEBUG, discord.py's gateway logs every event it receives whole, and a modal submit carries
the e-mail address and the token in plain text. This filter, on the `discord.gateway` logger,
replaces the values of every submitted modal with `[redacted]` before any handler sees the
record (SPEC section 6: no token and no e-mail in any log record, at any level).
"""

from __future__ import annotations

import logging
from typing import Any

GATEWAY_LOGGER = "discord.gateway"
MODAL_SUBMIT = 5
REDACTED = "[redacted]"


def _scrub_components(components: Any) -> Any:
    if isinstance(components, list):
        return [_scrub_components(component) for component in components]
    if isinstance(components, dict):
        scrubbed = {key: _scrub_components(value) for key, value in components.items()}
        if "value" in scrubbed:
            scrubbed["value"] = REDACTED
        if "values" in scrubbed:
            scrubbed["values"] = [REDACTED]
        return scrubbed
    return components


def redact_event(message: Any) -> Any:
    """A gateway message with any modal submit's typed values replaced; others unchanged."""
    if not isinstance(message, dict) or message.get("t") != "INTERACTION_CREATE":
        return message
    data = message.get("d")
    if not isinstance(data, dict) or data.get("type") != MODAL_SUBMIT:
        return message
    inner = data.get("data") or {}
    return {**message, "d": {**data, "data": {**inner, "components": _scrub_components(inner.get("components"))}}}


class ModalValuesFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(redact_event(arg) for arg in record.args)
        return True


def install(logger_name: str = GATEWAY_LOGGER) -> ModalValuesFilter:
    installed = ModalValuesFilter()
    logging.getLogger(logger_name).addFilter(installed)
    return installed


def uninstall(installed: ModalValuesFilter, logger_name: str = GATEWAY_LOGGER) -> None:
    logging.getLogger(logger_name).removeFilter(installed)
