"""``kv-pressure``: shared prefixes under KV-cache pressure, with a client behind the router.

The router's traffic is groups sharing a long system prompt (as ``shared-prefix``), but
the servers' KV caches hold only a few prompts each (the scenario sets the simulators'
``--num-gpu-blocks``), far below the working set, so they evict all the time. Meanwhile
a second client reaches the servers directly (``Workload.side``):

* it sends each group's system prompt (with its own questions) to a server of its own
  choosing (group ``g`` to server ``g`` mod the servers), so prefixes appear where the
  router never sent them;
* it sends long one-off prompts to every server in turn, which evict what the router
  believes is cached.

A router that remembers only its own decisions (an approximate index) is wrong after
both; one that follows what the servers report (KV events), or reads their caches
outright (the ``oracle`` arm), is not.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

from bench.workloads.grouped import grouped_workload
from bench.workloads.model import COMPLETIONS, BenchRequest, Workload, streaming_body
from bench.workloads.text import TextSource
from gie.tokens import CHARS_PER_TOKEN

__all__ = ["KvPressure"]


@dataclass(frozen=True, kw_only=True)
class KvPressure:
    groups: int = 16
    prompts_per_group: int = 12
    system_prompt_tokens: int = 2000
    question_tokens: int = 48
    output_tokens: int = 32
    side_per_group: int = 4  # the second client's requests of each group's prefix
    side_one_off: int = 48  # the second client's long one-off prompts

    def _side(self, seed: int, model: str, prefixes: list[str]) -> tuple[BenchRequest, ...]:
        rng = random.Random(seed + 1)
        source = TextSource(seed + 1)
        side: list[tuple[int, str, str]] = []
        for group, prefix in enumerate(prefixes):
            for _ in range(self.side_per_group):
                question = source.text(rng, tokens=self.question_tokens)
                side.append((group, f"side-group-{group}", f"{prefix}\n\n{question}"))
        for index in range(self.side_one_off):
            prompt = source.text(rng, tokens=self.system_prompt_tokens + self.question_tokens)
            side.append((index, f"side-one-off-{index}", prompt))
        rng.shuffle(side)
        return tuple(
            BenchRequest(
                index=index,
                path=COMPLETIONS,
                body=streaming_body(model, self.output_tokens, prompt=prompt),
                group=group,
                server=server,
            )
            for index, (server, group, prompt) in enumerate(side)
        )

    def generate(self, *, seed: int, model: str) -> Workload:
        main = grouped_workload(
            name="kv-pressure",
            description=f"{self.groups} groups x {self.prompts_per_group} prompts, "
            f"{self.system_prompt_tokens}-token shared system prompt, "
            f"{self.question_tokens}-token question, {self.output_tokens} output tokens; "
            f"beside the router, a second client sends {self.side_per_group} requests per "
            f"group and {self.side_one_off} one-off "
            f"{self.system_prompt_tokens + self.question_tokens}-token prompts straight to "
            "the servers",
            parameters=asdict(self),
            seed=seed,
            model=model,
            groups=self.groups,
            per_group=self.prompts_per_group,
            prefix_tokens=self.system_prompt_tokens,
            question_tokens=self.question_tokens,
            output_tokens=self.output_tokens,
            label="group",
            joiner="\n\n",
        )
        # Every prompt is its group's system prompt (exactly this long), then a question.
        chars = self.system_prompt_tokens * CHARS_PER_TOKEN
        by_group = {request.group: str(request.body["prompt"])[:chars] for request in main.requests}
        prefixes = [by_group[f"group-{group}"] for group in range(self.groups)]
        return Workload(
            name=main.name,
            description=main.description,
            requests=main.requests,
            parameters=main.parameters,
            models=main.models,
            side=self._side(seed, model, prefixes),
        )
