"""Bounded fuzzing of gie's network-facing parsers (hypothesis).

Each test feeds one parser generated input and asserts what a user relies on: the parser
either returns a value or raises its own documented error (never another exception,
never a hang), and input over a limit is refused with an error naming that limit. Every
test is bounded by ``FUZZ`` (examples and a per-example deadline), so the whole set
adds a few seconds to the suite.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# A per-example deadline far above any parse here (microseconds to milliseconds), yet
# low enough that a parser going quadratic or hanging on some input fails the test.
FUZZ = settings(
    max_examples=100,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)

# JSON values, nested a little.
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def nested(depth: int, *, opener: bytes = b"[", closer: bytes = b"]") -> bytes:
    """A JSON (or flow YAML) array nested ``depth`` levels deep."""
    return opener * depth + closer * depth
