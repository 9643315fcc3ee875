"""Fault modes of a simulated server's ``/metrics`` page, switchable at run time.

A :class:`Faults` value says how the next scrapes are answered; the OpenAI API keeps
working whatever the mode. Modes:

* ``none`` -- the normal page;
* ``slow`` -- the normal page, after ``delay_ms``;
* ``http500`` -- status 500 with a short plain-text body;
* ``garbage`` -- status 200 with a body that is not Prometheus text;
* ``truncated`` -- status 200 with the page cut in the middle of a sample line;
* ``nan`` -- status 200, every sample value is ``NaN``;
* ``oversized`` -- status 200 with the page padded by comments to ``oversize_bytes``.

Set them with ``POST /sim/faults`` (see :mod:`gie_sim.admin_api`) or ``gie-sim --fault``.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FaultMode", "Faults", "corrupt_page"]

GARBAGE_BODY = b"<html><body>\x00\xff not metrics {{{ \xfe\n"
_SAMPLE_VALUE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*(?:\{[^\n]*\})?) \S+$", re.MULTILINE)


class FaultMode(StrEnum):
    NONE = "none"
    SLOW = "slow"
    HTTP500 = "http500"
    GARBAGE = "garbage"
    TRUNCATED = "truncated"
    NAN = "nan"
    OVERSIZED = "oversized"


class Faults(BaseModel):
    """How ``/metrics`` answers. Immutable; replace it to switch modes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: FaultMode = FaultMode.NONE
    delay_ms: float = Field(default=500.0, ge=0.0, le=600_000.0)
    oversize_bytes: int = Field(default=16 * 1024 * 1024, ge=1, le=256 * 1024 * 1024)

    @property
    def delay_s(self) -> float:
        """Seconds to wait before answering (only in ``slow`` mode)."""
        return self.delay_ms / 1000.0 if self.mode is FaultMode.SLOW else 0.0


def corrupt_page(page: str, faults: Faults) -> tuple[int, bytes]:
    """The status and body to send for ``page`` under ``faults``."""
    mode = faults.mode
    if mode is FaultMode.HTTP500:
        return 500, b"simulated internal server error\n"
    if mode is FaultMode.GARBAGE:
        return 200, GARBAGE_BODY
    if mode is FaultMode.TRUNCATED:
        body = page.encode()[: len(page) // 2]
        return 200, body[:-1] if body.endswith(b"\n") else body
    if mode is FaultMode.NAN:
        return 200, _SAMPLE_VALUE.sub(r"\1 NaN", page).encode()
    if mode is FaultMode.OVERSIZED:
        padding = max(0, faults.oversize_bytes - len(page))
        filler = ("# " + "x" * 1021 + "\n") * (padding // 1024 + 1)
        return 200, (filler + page).encode()
    return 200, page.encode()
