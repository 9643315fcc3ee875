"""Reading Kubernetes protobuf request bodies (``application/vnd.kubernetes.protobuf``).

Go clients (kubectl's ``create namespace`` / ``create configmap``, client-go's typed
clients) send built-in objects as protobuf: the magic ``k8s\\x00``, then a
``runtime.Unknown`` envelope (``typeMeta`` 1 {apiVersion 1, kind 2}, ``raw`` 2) whose
``raw`` bytes are the object's message. :func:`decode_object` turns such a body into the
object's JSON form using the field tables of :mod:`gie_cli.kube.protobuf_schemas`. A
kind or a field the tables do not know is refused (415), never silently dropped.
Responses are always JSON, which every Kubernetes client accepts.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from gie_cli.kube.protobuf_schemas import KINDS, Field, Message
from gie_cli.kube.status import KubeError, unsupported_media_type

__all__ = ["PROTOBUF", "decode_object"]

PROTOBUF = "application/vnd.kubernetes.protobuf"
_MAGIC = b"k8s\x00"
_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5
_EMPTY: tuple[Any, ...] = ("", None)


def _refuse(why: str) -> KubeError:
    return unsupported_media_type(
        f"the body of the request was in an unknown format - {why}; send application/json"
    )


def _varint(data: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if position >= len(data):
            raise _refuse("truncated protobuf varint")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int, Any]]:
    """(number, wire type, value) of every field, in order."""
    fields = []
    position = 0
    while position < len(data):
        key, position = _varint(data, position)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == _VARINT:
            value, position = _varint(data, position)
        elif wire == _LENGTH:
            size, position = _varint(data, position)
            value, position = data[position : position + size], position + size
        elif wire == _FIXED64:
            value, position = data[position : position + 8], position + 8
        elif wire == _FIXED32:
            value, position = data[position : position + 4], position + 4
        else:
            raise _refuse(f"unsupported protobuf wire type {wire}")
        fields.append((number, wire, value))
    return fields


def _signed(value: int, bits: int) -> int:
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


def _time(data: bytes, *, micro: bool) -> str | None:
    seconds = nanos = 0
    for number, _, value in _fields(data):
        if number == 1:
            seconds = _signed(value, 64)
        elif number == 2:
            nanos = value
    if seconds == 0 and nanos == 0:
        return None
    moment = datetime.fromtimestamp(seconds + nanos / 1e9, UTC)
    if micro:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _scalar(kind: str, value: Any) -> Any:
    if kind == "string":
        return value.decode("utf-8")
    if kind == "bytes":
        return base64.b64encode(value).decode("ascii")
    if kind == "bool":
        return bool(value)
    if kind == "int32":
        return _signed(value, 32)
    if kind == "int64":
        return _signed(value, 64)
    if kind in ("time", "microtime"):
        return _time(value, micro=kind == "microtime")
    raise _refuse(f"unsupported protobuf field kind {kind}")


def _decode(data: bytes, message: Message, path: str) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for number, _, value in _fields(data):
        field = message.get(number)
        if field is None:
            raise _refuse(f"field {number} of {path or 'the object'} is not known to this server")
        _assign(obj, field, value, path)
    return obj


def _assign(obj: dict[str, Any], field: Field, value: Any, path: str) -> None:
    where = f"{path}.{field.name}" if path else field.name
    if field.map_of is not None:
        entry = {n: v for n, _, v in _fields(value)}
        key = entry.get(1, b"").decode("utf-8")
        obj.setdefault(field.name, {})[key] = _scalar(field.map_of, entry.get(2, b""))
        return
    if field.message is not None:
        item = _decode(value, field.message, where)
    else:
        item = _scalar(field.kind, value)
        if not field.repeated and item in _EMPTY:
            return  # Go writes unset fields as zero values; JSON leaves them out
    if field.repeated:
        obj.setdefault(field.name, []).append(item)
    else:
        obj[field.name] = item


def decode_object(body: bytes) -> dict[str, Any]:
    """The JSON form of a protobuf-encoded built-in object (415 when it cannot be read)."""
    if not body.startswith(_MAGIC):
        raise _refuse("protobuf body without the k8s envelope")
    envelope = {number: value for number, _, value in _fields(body[len(_MAGIC) :])}
    type_meta = {n: v.decode("utf-8") for n, _, v in _fields(envelope.get(1, b""))}
    api_version, kind = type_meta.get(1, ""), type_meta.get(2, "")
    message = KINDS.get((api_version, kind))
    if message is None:
        raise _refuse(
            f"protobuf {kind or 'objects'} of {api_version or 'this version'} cannot be read"
        )
    obj = _decode(envelope.get(2, b""), message, "")
    return {"apiVersion": api_version, "kind": kind, **obj}
