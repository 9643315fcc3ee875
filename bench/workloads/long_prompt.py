"""``long-prompt``: questions about long documents (~200 KB prompts).

Each document (``document_tokens`` simulator tokens, 4 characters each: 50,000 tokens
is 200 KB) is asked several questions; requests arrive shuffled. Prefilling a document
costs seconds of simulated GPU time, so where a repeated document lands dominates
latency, and 200 KB bodies exercise each router's request parsing.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

from bench.workloads.model import COMPLETIONS, BenchRequest, Workload, streaming_body
from bench.workloads.text import TextSource

__all__ = ["LongPrompt"]


@dataclass(frozen=True, kw_only=True)
class LongPrompt:
    documents: int = 6
    questions_per_document: int = 4
    document_tokens: int = 50_000
    question_tokens: int = 50
    output_tokens: int = 64

    def generate(self, *, seed: int, model: str) -> Workload:
        rng = random.Random(seed)
        source = TextSource(seed)
        requests = []
        for document in range(self.documents):
            text = source.text(rng, tokens=self.document_tokens)
            for _ in range(self.questions_per_document):
                question = source.text(rng, tokens=self.question_tokens)
                requests.append((f"document-{document}", f"{text}\n\nQuestion: {question}"))
        rng.shuffle(requests)
        return Workload(
            name="long-prompt",
            description=f"{self.documents} documents of {self.document_tokens} tokens "
            f"(~{self.document_tokens * 4 // 1000} KB) x {self.questions_per_document} "
            f"questions, {self.output_tokens} output tokens",
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
