"""Workloads of groups sharing a long prefix (a system prompt, a document) + a question."""

from __future__ import annotations

import random

from bench.workloads.model import COMPLETIONS, BenchRequest, Workload, streaming_body
from bench.workloads.text import TextSource


def grouped_workload(
    *,
    name: str,
    description: str,
    parameters: dict[str, object],
    seed: int,
    model: str,
    groups: int,
    per_group: int,
    prefix_tokens: int,
    question_tokens: int,
    output_tokens: int,
    label: str,
    joiner: str,
) -> Workload:
    """``groups`` prefixes, each followed by ``per_group`` unique questions, shuffled."""
    rng = random.Random(seed)
    source = TextSource(seed)
    prompts = []
    for group in range(groups):
        prefix = source.text(rng, tokens=prefix_tokens)
        for _ in range(per_group):
            question = source.text(rng, tokens=question_tokens)
            prompts.append((f"{label}-{group}", f"{prefix}{joiner}{question}"))
    rng.shuffle(prompts)
    return Workload(
        name=name,
        description=description,
        requests=tuple(
            BenchRequest(
                index=index,
                path=COMPLETIONS,
                body=streaming_body(model, output_tokens, prompt=prompt),
                group=group,
            )
            for index, (group, prompt) in enumerate(prompts)
        ),
        parameters=parameters,
        models=(model,),
    )
