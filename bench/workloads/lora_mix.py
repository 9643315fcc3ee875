"""``lora-mix``: requests for several LoRA adapters of one base model.

Adapter popularity follows a Zipf-like law (adapter ``k`` is requested with weight
``1 / (k + 1)``); each request names its adapter as the ``model``, as vLLM's OpenAI
server expects. Each adapter's requests share a short system prompt. The servers must
serve the adapters (``Workload.models``); the runner checks ``/v1/models`` first and
refuses the scenario with a clear error where they do not.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

from bench.workloads.model import COMPLETIONS, BenchRequest, Workload, streaming_body
from bench.workloads.text import TextSource

__all__ = ["LoraMix"]


@dataclass(frozen=True, kw_only=True)
class LoraMix:
    adapters: int = 4
    requests: int = 160
    system_prompt_tokens: int = 300
    question_tokens: int = 100
    output_tokens: int = 64

    def adapter_names(self, model: str) -> tuple[str, ...]:
        return tuple(f"{model}-lora-{k}" for k in range(self.adapters))

    def generate(self, *, seed: int, model: str) -> Workload:
        rng = random.Random(seed)
        source = TextSource(seed)
        names = self.adapter_names(model)
        systems = [source.text(rng, tokens=self.system_prompt_tokens) for _ in names]
        weights = [1.0 / (k + 1) for k in range(len(names))]
        requests = []
        for index in range(self.requests):
            (k,) = rng.choices(range(len(names)), weights=weights)
            prompt = f"{systems[k]}\n\n{source.text(rng, tokens=self.question_tokens)}"
            requests.append(
                BenchRequest(
                    index=index,
                    path=COMPLETIONS,
                    body=streaming_body(names[k], self.output_tokens, prompt=prompt),
                    group=names[k],
                )
            )
        return Workload(
            name="lora-mix",
            description=f"{self.requests} requests over {self.adapters} LoRA adapters "
            f"(Zipf-like popularity), {self.output_tokens} output tokens",
            requests=tuple(requests),
            parameters=asdict(self),
            models=names,
        )
