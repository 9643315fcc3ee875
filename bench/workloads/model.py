"""What a workload is: an ordered list of OpenAI-style requests, generated from a seed.

A :class:`BenchRequest` is one HTTP request body plus its path. ``after`` names an
earlier request (by index) that must have *finished* before this one may be sent: a
chat session's next turn waits for the previous turn, whatever the arrival process
says. Requests never depend on later ones, so any arrival process can honour it.
``side`` requests are a second client's, sent straight to a server behind the router's
back (``server``: its index, modulo the number of servers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CHAT", "COMPLETIONS", "BenchRequest", "Workload", "streaming_body"]

COMPLETIONS = "/v1/completions"
CHAT = "/v1/chat/completions"


@dataclass(frozen=True, kw_only=True, slots=True)
class BenchRequest:
    """One request of a workload."""

    index: int
    path: str  # COMPLETIONS or CHAT
    body: Mapping[str, Any]  # JSON body, streaming on, max_tokens set
    group: str  # what it shares a prefix with (prompt group, session, document)
    after: int | None = None  # index of a request that must finish first
    server: int | None = None  # side traffic: sent straight to server (index mod servers)


@dataclass(frozen=True, kw_only=True)
class Workload:
    """A named, fully generated workload."""

    name: str
    description: str
    requests: tuple[BenchRequest, ...]
    parameters: Mapping[str, Any] = field(default_factory=dict)  # recorded in results
    models: tuple[str, ...] = ()  # model names the servers must serve
    # A second client's requests, sent straight to the servers (each has ``server``)
    # while the router's traffic runs, spread over the same time; not measured as the
    # router's, but their load and cache changes are the servers'.
    side: tuple[BenchRequest, ...] = ()

    def __len__(self) -> int:
        return len(self.requests)


def streaming_body(model: str, max_tokens: int, **fields: Any) -> dict[str, Any]:
    """A streaming request body that reports usage and generates exactly ``max_tokens``."""
    return {
        "model": model,
        **fields,
        "max_tokens": max_tokens,
        "ignore_eos": True,  # vLLM: generate max_tokens; the simulator always does
        "stream": True,
        "stream_options": {"include_usage": True},
    }
