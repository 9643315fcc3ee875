"""The local stack with precise prefix routing and a real Mistral tokenizer, end to end.

The stack's config uses ``precise-prefix-cache-scorer`` with the Tekken tokenizer that
mistral-common ships, so ``gie up`` starts simulators that tokenize with it and publish
KV events, and hands their sockets to the collector (as endpoint labels in the pool
file, or as Pod annotations that ingest turns into them with Kubernetes discovery). A
prompt sent straight to one server (behind gie's back) is then routed by the gateway to
that server, and only there: the picker's token ids for it match the blocks that server
announced.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from gie.tokenize import load_tokenizer, mistral_common_file, prompt_input_of
from gie_cli.devstack import PartStartError, RunningStack, StackOptions, start_stack

pytestmark = pytest.mark.e2e

TEKKEN = mistral_common_file("tekken_240911.json")
CONFIG = f"""\
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: precise-prefix-cache-scorer
  parameters:
    tokenizer: {{kind: mistral, path: "{TEKKEN}"}}
- type: queue-scorer
- type: max-score-picker
schedulingProfiles:
- name: default
  plugins:
  - {{pluginRef: precise-prefix-cache-scorer, weight: 5}}
  - {{pluginRef: queue-scorer, weight: 1}}
  - {{pluginRef: max-score-picker}}
"""
SIMS = 3


@pytest_asyncio.fixture(loop_scope="session", params=["file", "kubernetes"])
async def stack(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[RunningStack]:
    config = tmp_path / "epp.yaml"
    config.write_text(CONFIG)
    options = StackOptions(
        state_dir=tmp_path / "stack",
        config_file=config,
        sims=SIMS,
        time_scale=0.0,
        test_hooks=True,  # the served endpoint in a response header
        # kubernetes: the sockets reach the collector as Pod annotations, through ingest
        discovery=request.param,
        ready_timeout_s=120.0,
    )
    try:
        running = await start_stack(options)
    except PartStartError as error:
        pytest.fail(f"stack did not start: {error}\n{error.log_tail}", pytrace=False)
    try:
        yield running
    finally:
        await running.stop()


def body(index: int, kind: str) -> dict[str, object]:
    context = f"Background document number {index}: " + " ".join(
        f"section {index}.{n} explains how cache-aware routing lowers latency." for n in range(40)
    )
    if kind == "completion":
        return {"model": "sim-llama", "prompt": context, "max_tokens": 2}
    return {
        "model": "sim-llama",
        "messages": [
            {"role": "system", "content": context},
            {"role": "user", "content": f"Summarise document {index}."},
        ],
        "max_tokens": 2,
    }


def path_of(request: dict[str, object]) -> str:
    return "/v1/chat/completions" if "messages" in request else "/v1/completions"


async def index_of(client: httpx.AsyncClient, admin: str, sim: str) -> dict[str, object]:
    view = (await client.get(f"{admin}/debug/view")).json()
    state: dict[str, object] = (view["precise_prefix_index"] or {}).get(sim) or {}
    return state


async def wait_blocks(client: httpx.AsyncClient, admin: str, sim: str, blocks: int) -> None:
    for _ in range(300):
        state = await index_of(client, admin, sim)
        if state.get("known") and int(str(state.get("blocks", 0))) >= blocks:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the picker never knew {blocks} blocks on {sim}: {state}")


@pytest.mark.asyncio(loop_scope="session")
async def test_the_gateway_routes_to_the_server_that_holds_the_prompt(
    stack: RunningStack,
) -> None:
    sims = [p.addresses["endpoint"] for p in stack.state.parts if p.kind == "sim"][:SIMS]
    admin = next(p.addresses["admin"] for p in stack.state.parts if p.name == "picker")
    tokenizer = load_tokenizer("mistral", str(TEKKEN))
    async with httpx.AsyncClient(timeout=30.0, trust_env=False) as client:
        for index, (kind, target) in enumerate(
            [("chat", 2), ("completion", 0), ("chat", 1), ("completion", 2)]
        ):
            request = body(index, kind)
            prompt = prompt_input_of(request)
            assert prompt is not None
            ids = tokenizer.encode(prompt)
            before = int(str((await index_of(client, admin, sims[target])).get("blocks", 0)))
            direct = await client.post(f"http://{sims[target]}{path_of(request)}", json=request)
            direct.raise_for_status()
            # The server tokenized with the same Mistral tokenizer as the picker.
            assert direct.json()["usage"]["prompt_tokens"] == len(ids)
            await wait_blocks(client, admin, sims[target], before + len(ids) // 16)
            routed = await client.post(f"{stack.gateway}{path_of(request)}", json=request)
            assert routed.status_code == 200, routed.text
            assert routed.headers["x-served-by"] == sims[target], (kind, index)
