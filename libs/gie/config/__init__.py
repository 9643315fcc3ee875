"""Configuration: environment settings (``GIE_`` prefix) shared by services, and the
kernel's configuration error (:class:`GieConfigError`, one :class:`ConfigProblem` per
field at fault)."""

from __future__ import annotations

from gie.config.errors import ConfigProblem, GieConfigError
from gie.config.settings import ServiceSettings

__all__ = ["ConfigProblem", "GieConfigError", "ServiceSettings"]
