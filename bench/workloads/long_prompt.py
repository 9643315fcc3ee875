"""``long-prompt``: questions about long documents (~200 KB prompts).

Each document (``document_tokens`` simulator tokens, 4 characters each: 50,000 tokens
is 200 KB) is asked several questions; requests arrive shuffled. Prefilling a document
costs seconds of simulated GPU time, so where a repeated document lands dominates
latency, and 200 KB bodies exercise each router's request parsing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from bench.workloads.grouped import grouped_workload
from bench.workloads.model import Workload

__all__ = ["LongPrompt"]


@dataclass(frozen=True, kw_only=True)
class LongPrompt:
    documents: int = 6
    questions_per_document: int = 4
    document_tokens: int = 50_000
    question_tokens: int = 50
    output_tokens: int = 64

    def generate(self, *, seed: int, model: str) -> Workload:
        return grouped_workload(
            name="long-prompt",
            description=f"{self.documents} documents of {self.document_tokens} tokens "
            f"(~{self.document_tokens * 4 // 1000} KB) x {self.questions_per_document} "
            f"questions, {self.output_tokens} output tokens",
            parameters=asdict(self),
            seed=seed,
            model=model,
            groups=self.documents,
            per_group=self.questions_per_document,
            prefix_tokens=self.document_tokens,
            question_tokens=self.question_tokens,
            output_tokens=self.output_tokens,
            label="document",
            joiner="\n\nQuestion: ",
        )
