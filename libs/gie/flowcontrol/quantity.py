"""Kubernetes-style quantities (``1Gi``, ``500M``, ``5k``) for capacity limits."""

from __future__ import annotations

import math
import re

_SUFFIX = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}
_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")


def parse_quantity(value: object) -> int:
    """A non-negative integer from an int or a quantity string (rounded up)."""
    if isinstance(value, bool):
        raise ValueError(f"must be a quantity such as 1Gi or 5000, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"must not be negative, got {value}")
        return value
    if isinstance(value, str):
        match = _QUANTITY.match(value.strip())
        if match is not None:
            number, suffix = match.group(1), match.group(2) or ""
            if "." in number:
                return math.ceil(float(number) * _SUFFIX[suffix])
            return int(number) * _SUFFIX[suffix]
    raise ValueError(f"must be a quantity such as 1Gi, 500M or 5000, got {value!r}")
