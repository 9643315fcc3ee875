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

from dataclasses import asdict, dataclass

from bench.workloads.grouped import grouped_workload
from bench.workloads.model import Workload

__all__ = ["SharedPrefix"]


@dataclass(frozen=True, kw_only=True)
class SharedPrefix:
    groups: int = 16
    prompts_per_group: int = 12
    system_prompt_tokens: int = 4000
    question_tokens: int = 64
    output_tokens: int = 64

    def generate(self, *, seed: int, model: str) -> Workload:
        return grouped_workload(
            name="shared-prefix",
            description=f"{self.groups} groups x {self.prompts_per_group} prompts, "
            f"{self.system_prompt_tokens}-token shared system prompt, "
            f"{self.question_tokens}-token question, {self.output_tokens} output tokens",
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
