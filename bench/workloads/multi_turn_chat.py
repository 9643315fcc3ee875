"""``multi-turn-chat``: chat sessions whose context grows turn by turn.

Each session has a system prompt; turn ``k`` sends the whole conversation so far (the
previous user turns and assistant replies) plus a new user message, so consecutive
turns share an ever longer prefix. A turn is sent only after the session's previous
turn has finished (``after``). Sessions are interleaved at random, as concurrent users
would be. The assistant replies in the history are generated text of
``reply_tokens`` tokens (the client "saw" them); the servers generate the same length.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

from bench.workloads.model import CHAT, BenchRequest, Workload, streaming_body
from bench.workloads.text import TextSource

__all__ = ["MultiTurnChat"]


@dataclass(frozen=True, kw_only=True)
class MultiTurnChat:
    sessions: int = 24
    turns: int = 5
    system_prompt_tokens: int = 400
    user_tokens: int = 80
    reply_tokens: int = 120

    def _interleaving(self, rng: random.Random) -> list[int]:
        """Session ids in sending order: each session appears ``turns`` times."""
        remaining = dict.fromkeys(range(self.sessions), self.turns)
        order = []
        while remaining:
            session = rng.choice(sorted(remaining))
            order.append(session)
            remaining[session] -= 1
            if remaining[session] == 0:
                del remaining[session]
        return order

    def generate(self, *, seed: int, model: str) -> Workload:
        rng = random.Random(seed)
        source = TextSource(seed)
        history: dict[int, list[dict[str, Any]]] = {}
        last: dict[int, int] = {}
        requests = []
        for index, session in enumerate(self._interleaving(rng)):
            messages = history.setdefault(
                session,
                [{"role": "system", "content": source.text(rng, tokens=self.system_prompt_tokens)}],
            )
            messages.append({"role": "user", "content": source.text(rng, tokens=self.user_tokens)})
            body = streaming_body(model, self.reply_tokens, messages=list(messages))
            requests.append(
                BenchRequest(
                    index=index,
                    path=CHAT,
                    body=body,
                    group=f"session-{session}",
                    after=last.get(session),
                )
            )
            reply = source.text(rng, tokens=self.reply_tokens)
            messages.append({"role": "assistant", "content": reply})
            last[session] = index
        return Workload(
            name="multi-turn-chat",
            description=f"{self.sessions} sessions x {self.turns} turns, "
            f"{self.system_prompt_tokens}-token system prompt, {self.user_tokens}-token "
            f"user turns, {self.reply_tokens}-token replies",
            requests=tuple(requests),
            parameters=asdict(self),
            models=(model,),
        )
