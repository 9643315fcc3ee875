"""NATS subject wildcard matching (``*`` one token, ``>`` the rest)."""

from __future__ import annotations


def subject_matches(pattern: str, subject: str) -> bool:
    """True when ``subject`` matches the NATS ``pattern``."""
    pattern_tokens = pattern.split(".")
    subject_tokens = subject.split(".")
    for index, token in enumerate(pattern_tokens):
        if token == ">":
            return len(subject_tokens) > index
        if index >= len(subject_tokens):
            return False
        if token not in ("*", subject_tokens[index]):
            return False
    return len(pattern_tokens) == len(subject_tokens)
