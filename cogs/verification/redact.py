"""Keeping e-mail addresses and tokens out of the libraries' DEBUG logs (SPEC section 6: no
token and no e-mail in any log record, at any level).

* discord.py's gateway logs every event it receives whole, and a modal submit carries the e-mail
  address and the token in plain text: the filter on `discord.gateway` replaces the values of
  every submitted modal with `[redacted]`.
* aiosqlite logs every statement it runs with its parameters (a roster's e-mail addresses among
  them): the filter on `aiosqlite` keeps the operation's name and drops its arguments.

A logger's filters run before any handler sees the record, wherever logging is configured.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

GATEWAY_LOGGER = "discord.gateway"
SQLITE_LOGGER = "aiosqlite"
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


class StatementArgumentsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(_operation_name(arg) for arg in record.args)
        return True


def _operation_name(arg: Any) -> Any:
    if isinstance(arg, functools.partial):
        name = getattr(arg.func, "__name__", type(arg.func).__name__)
        return f"{name}(…{REDACTED})" if arg.args or arg.keywords else f"{name}()"
    return arg


@dataclass(frozen=True, slots=True)
class Installed:
    filters: tuple[tuple[str, logging.Filter], ...]


def install() -> Installed:
    filters = ((GATEWAY_LOGGER, ModalValuesFilter()), (SQLITE_LOGGER, StatementArgumentsFilter()))
    for name, installed in filters:
        logging.getLogger(name).addFilter(installed)
    return Installed(filters)


def uninstall(installed: Installed) -> None:
    for name, log_filter in installed.filters:
        logging.getLogger(name).removeFilter(log_filter)
