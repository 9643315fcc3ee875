"""Parameter models shared by several plugins.

Every plugin's parameters are a pydantic model that forbids unknown fields and
is strict about types (``"2"`` is not an integer), with upstream's camelCase
names and documented defaults.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PluginParameters(BaseModel):
    """Base of every plugin's parameters."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    def warnings(self) -> tuple[str, ...]:
        """Things the operator should know about these values (logged at load)."""
        return ()


class NoParameters(PluginParameters):
    """For plugins that take no parameters."""


DEFAULT_MAX_NUM_OF_ENDPOINTS = 1


class PickerParameters(PluginParameters):
    """Parameters common to the pickers."""

    max_num_of_endpoints: int = Field(
        default=DEFAULT_MAX_NUM_OF_ENDPOINTS,
        ge=1,
        alias="maxNumOfEndpoints",
        description="How many endpoints to return: the primary, then fallbacks.",
    )
