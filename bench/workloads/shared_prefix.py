"""``shared-prefix``: groups of requests sharing a long system prompt.

Modelled on the upstream benchmark's prefix-cache scenario (inference-perf's
``shared_prefix`` data: ``num_groups``, ``num_prompts_per_group``, ``system_prompt_len``,
``question_len``, ``output_len``): each group has one long system prompt, each request
is that prompt plus a unique question, and requests of all groups arrive shuffled. A
router that keeps a group on one server turns all but the group's first prefill into a
prefix-cache hit; round-robin pays one cold prefill per group *per server* and, when
the groups outgrow one server's KV cache, keeps evicting them.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

from bench.workloads.model import COMPLETIONS, BenchRequest, Workload, streaming_body
from bench.workloads.text import TextSource

__all__ = ["SharedPrefix"]


@dataclass(frozen=True, kw_only=True)
class SharedPrefix:
    groups: int = 16
    prompts_per_group: int = 12
    system_prompt_tokens: int = 4000
    question_tokens: int = 64
    output_tokens: int = 64

    def generate(self, *, seed: int, model: str) -> Workload:
        rng = random.Random(seed)
        source = TextSource(seed)
        requests = []
        for group in range(self.groups):
            system = source.text(rng, tokens=self.system_prompt_tokens)
            for _ in range(self.prompts_per_group):
                question = source.text(rng, tokens=self.question_tokens)
                requests.append((f"group-{group}", f"{system}\n\n{question}"))
        rng.shuffle(requests)
        return Workload(
            name="shared-prefix",
            description=f"{self.groups} groups x {self.prompts_per_group} prompts, "
            f"{self.system_prompt_tokens}-token shared system prompt, "
            f"{self.question_tokens}-token question, {self.output_tokens} output tokens",
            requests=tuple(
                BenchRequest(
                    index=index,
                    path=COMPLETIONS,
                    body=streaming_body(model, self.output_tokens, prompt=prompt),
                    group=group,
                )
                for index, (group, prompt) in enumerate(requests)
            ),
            parameters=asdict(self),
            models=(model,),
        )
