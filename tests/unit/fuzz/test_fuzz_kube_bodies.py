"""The Kubernetes API stand-in's request bodies (JSON, YAML, protobuf): any bytes give an
object or a Status error (400/415), never another exception. Over real HTTP, with the
limits named: tests/kube_api/test_kube_api_body_limits.py."""

from __future__ import annotations

import orjson
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gie_cli.kube.body_limits import MAX_BODY_DEPTH, check_depth, loads_json, loads_yaml
from gie_cli.kube.protobuf_wire import decode_object
from gie_cli.kube.status import KubeError
from tests.unit.fuzz.conftest import FUZZ, json_values, nested

_MAGIC = b"k8s\x00"  # Kubernetes' protobuf envelope starts with these bytes
# A protobuf envelope naming a built-in kind, then arbitrary field bytes.
_envelope_type = b"\x0a\x0b\x0a\x02v1\x12\x05Event"  # TypeMeta {apiVersion: v1, kind: ...}


def refused_or_object(parse: object, raw: bytes) -> None:
    try:
        parse(raw)  # type: ignore[operator]
    except KubeError as exc:
        assert exc.code in (400, 415) and str(exc)


@FUZZ
@given(raw=st.binary(max_size=200) | json_values.map(orjson.dumps))
def test_any_json_body_is_an_object_or_a_400(raw: bytes) -> None:
    refused_or_object(lambda b: loads_json(b, "the request body"), raw)


@FUZZ
@given(raw=st.binary(max_size=100) | json_values.map(lambda v: yaml.safe_dump(v).encode()))
def test_any_yaml_body_is_an_object_or_a_400(raw: bytes) -> None:
    refused_or_object(lambda b: loads_yaml(b, "the request body"), raw)


@FUZZ
@given(fields=st.binary(max_size=200), kind=st.sampled_from([b"", _envelope_type]))
def test_any_protobuf_body_is_an_object_or_a_415(fields: bytes, kind: bytes) -> None:
    refused_or_object(decode_object, _MAGIC + kind + b"\x12" + bytes([len(fields) % 128]) + fields)


def test_the_depth_limit_counts_lists_and_objects() -> None:
    assert check_depth(orjson.loads(nested(MAX_BODY_DEPTH)), "x") is not None
    try:
        check_depth(orjson.loads(b'{"a":' + nested(MAX_BODY_DEPTH) + b"}"), "the body")
    except KubeError as exc:
        assert f"nests deeper than {MAX_BODY_DEPTH} levels" in str(exc)
    else:
        raise AssertionError("a body one level over the limit was accepted")
