"""precise-prefix-cache-scorer's ``tokenizer`` parameter: a real Mistral tokenizer scores
the blocks a Mistral server announces; bad settings are config errors naming the field."""

from __future__ import annotations

import random

import pytest
from prometheus_client import CollectorRegistry

from gie.events import Endpoint, KvBlocksStored, KvCacheCleared
from gie.events.hashes import pack_hashes
from gie.prefix import token_block_keys
from gie.tokenize import CharsTokenizer, PromptInput, load_tokenizer, mistral_common_file
from gie.view import EndpointState, InFlightView, PoolView
from gie_picker.config import ConfigError, load_text
from gie_picker.prefixcache.state import PrefixCacheState
from gie_picker.scheduling.contracts import PluginContext, SchedulingRequest
from gie_picker.scheduling.scorers import PrecisePrefixCacheParameters, PrecisePrefixCacheScorer

POOL = "unit/precise-tokenizer"
A = "10.0.0.1:8000"
TEKKEN = str(mistral_common_file("tekken_240911.json"))
PROMPT = "Summarise the following design document for a new engineer. " * 30

CONFIG = """\
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: precise-prefix-cache-scorer
  parameters:
    tokenizer: {tokenizer}
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: precise-prefix-cache-scorer
"""


def _score_with(tokenizer: object, server_ids: list[int]) -> float:
    cache = PrefixCacheState(PoolView(POOL))
    context = PluginContext(
        inflight=InFlightView(POOL), rng=random.Random(0), prefix_cache=cache, precise_prefix=cache
    )
    params = PrecisePrefixCacheParameters.model_validate(
        {"tokenizer": tokenizer} if tokenizer else {}
    )
    scorer = PrecisePrefixCacheScorer.create("p", params, context)
    common = {"source": "c", "pool": POOL, "address": A, "epoch": "run-1"}
    cache.apply_kv(KvCacheCleared(**common, seq=-1, reason="start"))
    keys = token_block_keys(server_ids, 16, key=context.prefix_key)
    cache.apply_kv(KvBlocksStored(**common, seq=0, block_size=16, block_keys=pack_hashes(keys)))
    request = SchedulingRequest(
        request_id="r", model="m", prompt=PROMPT, prompt_input=PromptInput(text=PROMPT)
    )
    return scorer.score(request, [EndpointState(Endpoint(address=A))])[A]


def test_the_configured_mistral_tokenizer_matches_what_a_mistral_server_caches() -> None:
    server_ids = load_tokenizer("mistral", TEKKEN).encode(PromptInput(text=PROMPT))
    assert _score_with({"kind": "mistral", "path": TEKKEN}, server_ids) == 1.0
    # Without it, the picker's stand-in ids match nothing the server announced.
    assert _score_with(None, server_ids) == 0.0
    stand_in_ids = CharsTokenizer().encode(PromptInput(text=PROMPT))
    assert _score_with({"kind": "mistral", "path": TEKKEN}, stand_in_ids) == 0.0


@pytest.mark.parametrize(
    ("tokenizer", "expected"),
    [
        ("{kind: mistral}", "parameters.tokenizer.path: required for tokenizer kind 'mistral'"),
        (
            "{kind: hf, path: /nonexistent/tokenizer.json}",
            "parameters.tokenizer.path: no such file or folder: /nonexistent/tokenizer.json",
        ),
        ("{kind: tiktoken, path: x}", "parameters.tokenizer.kind: Input should be 'chars',"),
        ("{kind: mistral, file: x}", "parameters.tokenizer.file: unknown field"),
        (f"{{kind: hf, path: {__file__}}}", "parameters.tokenizer.path: "),
    ],
    ids=["no-path", "missing-file", "unknown-kind", "unknown-field", "not-a-tokenizer"],
)
def test_bad_tokenizer_settings_are_config_errors_naming_the_field(
    tokenizer: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(CONFIG.format(tokenizer=tokenizer))
    assert expected in str(caught.value)
    assert 'plugins[0] (name "precise-prefix-cache-scorer"' in str(caught.value)


def test_a_chat_the_tokenizer_refuses_is_scored_approximately_and_counted() -> None:
    registry = CollectorRegistry()
    cache = PrefixCacheState(PoolView(POOL), registry=registry)
    context = PluginContext(
        inflight=InFlightView(POOL), rng=random.Random(0), prefix_cache=cache, precise_prefix=cache
    )
    params = PrecisePrefixCacheParameters.model_validate(
        {"tokenizer": {"kind": "mistral", "path": TEKKEN}}
    )
    scorer = PrecisePrefixCacheScorer.create("p", params, context)
    common = {"source": "c", "pool": POOL, "address": A, "epoch": "run-1"}
    cache.apply_kv(KvCacheCleared(**common, seq=-1, reason="start"))
    orphan = [{"role": "tool", "content": "a tool result nobody asked for " * 10}]
    request = SchedulingRequest(
        request_id="r", model="m", prompt="", prompt_input=PromptInput(messages=orphan)
    )
    scores = scorer.score(request, [EndpointState(Endpoint(address=A))])
    assert scores.get(A, 0.0) == 0.0  # the approximate estimate (nothing routed yet)
    labels = {"tokenizer": "mistral:tekken_240911.json"}
    assert registry.get_sample_value("gie_prefix_precise_untokenized_total", labels) == 1.0
