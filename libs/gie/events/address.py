"""Endpoint addresses, ``ip:port`` (or ``[v6]:port``, or ``host:port``), port 1-65535.

One rule, two forms: :data:`Address` is the annotated type event fields use (checked
inside pydantic's core, without a Python call per field: routing events are decoded
by every picker replica, several per request), :func:`validate_address` the same
check for plain code. Both reject with "endpoint address must be ip:port".
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

__all__ = ["ADDRESS_PATTERN", "Address", "validate_address"]

_PORT = r"(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
ADDRESS_PATTERN = r"^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.\-]+):" + _PORT + r"$"
_ADDRESS = re.compile(ADDRESS_PATTERN)
_MESSAGE = "endpoint address must be ip:port"


def validate_address(value: str) -> str:
    """Check an endpoint address and return it; ValueError naming the value otherwise."""
    if _ADDRESS.fullmatch(value) is None:
        raise ValueError(f"{_MESSAGE}, got {value!r}")
    return value


class _AddressSchema:
    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.custom_error_schema(
            core_schema.str_schema(pattern=ADDRESS_PATTERN),
            custom_error_type="endpoint_address",
            custom_error_message=_MESSAGE,
        )


Address = Annotated[str, _AddressSchema]
