"""The picker's request-body parser: any body gives a request or a 400, never a crash."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gie_picker.requestcontrol.request import RequestError, parse_inference_request
from tests.unit.fuzz.conftest import FUZZ, json_values, nested

_messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "system", "assistant", ""]) | json_values},
        optional={"content": json_values, "tool_calls": json_values},
    )
    | json_values,
    max_size=4,
)
_bodies = st.fixed_dictionaries(
    {"model": st.text(max_size=10) | json_values},
    optional={
        "prompt": json_values
        | st.lists(st.integers(min_value=-5, max_value=2**64 - 1), max_size=8)
        | st.lists(st.text(max_size=10), max_size=4),
        "messages": _messages,
        "tools": json_values,
        "cache_salt": json_values,
        "stream": json_values,
    },
)


def parse(body: bytes, **kw: str) -> None:
    try:
        request = parse_inference_request(
            request_id="r", path="/v1/chat/completions", body=body, **kw
        )
    except RequestError as exc:
        assert exc.status == 400 and exc.message
    else:
        assert request.target_model


@FUZZ
@given(body=_bodies, rewrite=st.sampled_from(["", "other-model"]))
def test_any_openai_shaped_body_is_parsed_or_refused_with_400(
    body: dict[str, object], rewrite: str
) -> None:
    parse(orjson.dumps(body), model_rewrite=rewrite)


@FUZZ
@given(body=st.binary(max_size=200) | json_values.map(orjson.dumps))
def test_any_bytes_are_parsed_or_refused_with_400(body: bytes) -> None:
    if body:
        parse(body)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"model":"m","prompt":' + nested(1100) + b"}", "depth limit exceeded"),
        (
            b'{"model":"m","messages":[{"role":"u","content":"x"}],"tools":' + nested(300) + b"}",
            "'tools' cannot be rendered",
        ),
    ],
    ids=["body-deeper-than-1024", "tools-deeper-than-254"],
)
def test_a_body_nested_too_deep_is_a_400_naming_the_limit(body: bytes, words: str) -> None:
    with pytest.raises(RequestError) as caught:
        parse_inference_request(request_id="r", path="/v1/chat/completions", body=body)
    assert caught.value.status == 400 and words in caught.value.message
