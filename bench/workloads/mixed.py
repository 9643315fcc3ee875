"""``mixed``: single-turn chats with ShareGPT-like prompt and output lengths.

Lengths are drawn from log-normal distributions (clipped) whose medians and spreads give
means close to the ShareGPT conversations used by vLLM's serving benchmark (about 290
prompt and 195 output tokens on average, with a long tail). No data set is downloaded:
the text is generated from the seed, so prompts share nothing but the chat template.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass

from bench.workloads.model import CHAT, BenchRequest, Workload, streaming_body
from bench.workloads.text import TextSource

__all__ = ["Mixed"]


def _lognormal(rng: random.Random, *, median: float, sigma: float, low: int, high: int) -> int:
    return max(low, min(high, round(rng.lognormvariate(math.log(median), sigma))))


@dataclass(frozen=True, kw_only=True)
class Mixed:
    requests: int = 200
    prompt_median_tokens: float = 160.0
    prompt_sigma: float = 1.1
    max_prompt_tokens: int = 3000
    output_median_tokens: float = 130.0
    output_sigma: float = 0.9
    max_output_tokens: int = 800

    def generate(self, *, seed: int, model: str) -> Workload:
        rng = random.Random(seed)
        source = TextSource(seed)
        requests = []
        for index in range(self.requests):
            prompt_tokens = _lognormal(
                rng,
                median=self.prompt_median_tokens,
                sigma=self.prompt_sigma,
                low=4,
                high=self.max_prompt_tokens,
            )
            output_tokens = _lognormal(
                rng,
                median=self.output_median_tokens,
                sigma=self.output_sigma,
                low=4,
                high=self.max_output_tokens,
            )
            messages = [{"role": "user", "content": source.text(rng, tokens=prompt_tokens)}]
            requests.append(
                BenchRequest(
                    index=index,
                    path=CHAT,
                    body=streaming_body(model, output_tokens, messages=messages),
                    group=f"request-{index}",
                )
            )
        return Workload(
            name="mixed",
            description=f"{self.requests} single-turn chats, log-normal lengths (median "
            f"prompt {self.prompt_median_tokens:g}, median output "
            f"{self.output_median_tokens:g} tokens)",
            requests=tuple(requests),
            parameters=asdict(self),
            models=(model,),
        )
