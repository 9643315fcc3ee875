"""Logging the effective configuration once, at start-up."""

from __future__ import annotations

from typing import Protocol

from gie_picker.config.effective import EffectiveConfig
from gie_picker.config.render import effective_document


class _Logger(Protocol):
    def info(self, event: str, **fields: object) -> object: ...

    def warning(self, event: str, **fields: object) -> object: ...


def log_effective(config: EffectiveConfig, log: _Logger) -> None:
    """One info line with the effective configuration, one warning per warning."""
    log.info("scheduling configuration", config=effective_document(config))
    for warning in config.warnings:
        log.warning("configuration warning", warning=warning)
