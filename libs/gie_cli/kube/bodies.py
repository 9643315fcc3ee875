"""Request bodies (JSON or YAML) and JSON responses with the headers the server sends."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from gie_cli.kube.body_limits import loads_json, loads_yaml
from gie_cli.kube.protobuf_wire import PROTOBUF, decode_object
from gie_cli.kube.status import bad_request, unsupported_media_type

__all__ = ["add_warning", "json_response", "parse_bool", "query_lists", "read_body"]

_TRUE = frozenset({"1", "t", "T", "true", "True", "TRUE"})
_FALSE = frozenset({"0", "f", "F", "false", "False", "FALSE"})


def parse_bool(value: str | None, name: str) -> bool | None:
    """A boolean query parameter as Go's ``strconv.ParseBool`` reads it (None: absent)."""
    if value is None or value == "":
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise bad_request(f"invalid value for {name}: {value!r}: not a boolean")


def query_lists(request: web.Request) -> dict[str, list[str]]:
    return {key: request.query.getall(key) for key in set(request.query.keys())}


async def read_body(request: web.Request, *, required: bool = True) -> Any:
    raw = await request.read()
    if not raw.strip():
        if required:
            raise bad_request("the body of the request is empty")
        return None
    media = (request.content_type or "application/json").lower()
    if media == PROTOBUF:
        try:
            return decode_object(raw)
        except RecursionError:
            raise bad_request(
                "the protobuf body nests deeper than the decoder's recursion limit"
            ) from None
    if media in ("application/yaml", "application/x-yaml", "text/yaml"):
        return loads_yaml(raw, "the request body")
    if media not in ("application/json", "*/*", "text/plain", "application/octet-stream"):
        raise unsupported_media_type(
            "the body of the request was in an unknown format - accepted media types "
            "include: application/json, application/yaml, application/vnd.kubernetes.protobuf"
        )
    return loads_json(raw, "the request body")


def json_response(
    body: Any,
    *,
    status: int = 200,
    content_type: str = "application/json",
    warnings: list[str] | None = None,
) -> web.Response:
    response = web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(),
        status=status,
        headers={"Content-Type": content_type},
    )
    for warning in warnings or []:
        add_warning(response, warning)
    return response


def add_warning(response: web.StreamResponse, warning: str) -> None:
    """A ``Warning: 299 - "..."`` header, as the server sends warnings (kubectl prints them)."""
    escaped = warning.replace("\\", "\\\\").replace('"', '\\"')
    response.headers.add("Warning", f'299 - "{escaped}"')
