"""Envoy Lua filters that play the gateway's part of the protocol, for testing.

A real gateway sets the endpoint subset hint and reports the endpoint that
served a request. With ``test_hooks`` on, the local gateway does the same from
headers, so the picker's handling of both can be exercised end to end:

* request header ``x-test-subset: ip:port,ip:port`` (or ``none`` for an empty
  list) becomes ``envoy.lb.subset_hint / x-gateway-destination-endpoint-subset``;
* the response header ``x-served-by`` (the simulators set it) becomes
  ``envoy.lb / x-gateway-destination-endpoint-served`` before the picker sees
  the response.
"""

from __future__ import annotations

from typing import Any

_LUA = "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua"

SUBSET_HEADER = "x-test-subset"

_SUBSET_SOURCE = """
function envoy_on_request(handle)
  local value = handle:headers():get("x-test-subset")
  if value == nil then return end
  handle:headers():remove("x-test-subset")
  local list = {}
  if value ~= "none" then
    for item in string.gmatch(value, "[^,]+") do table.insert(list, item) end
  end
  handle:streamInfo():dynamicMetadata():set(
    "envoy.lb.subset_hint", "x-gateway-destination-endpoint-subset", list)
end
"""

_SERVED_SOURCE = """
function envoy_on_response(handle)
  local served = handle:headers():get("x-served-by")
  if served ~= nil then
    handle:streamInfo():dynamicMetadata():set(
      "envoy.lb", "x-gateway-destination-endpoint-served", served)
  end
end
"""


def _lua(name: str, source: str) -> dict[str, Any]:
    return {
        "name": name,
        "typed_config": {"@type": _LUA, "default_source_code": {"inline_string": source}},
    }


def subset_hint_filter() -> dict[str, Any]:
    """Placed before ext_proc: runs before it on the request path."""
    return _lua("gie.test.subset_hint", _SUBSET_SOURCE)


def served_endpoint_filter() -> dict[str, Any]:
    """Placed after ext_proc: on the response path it runs before ext_proc."""
    return _lua("gie.test.served_endpoint", _SERVED_SOURCE)
