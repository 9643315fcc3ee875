"""Endpoint addresses: the event field type and the plain check apply one rule."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gie.events import EndpointRemoved, RequestRouted, validate_address

ACCEPTED = ["10.0.0.1:8000", "[::1]:80", "[fd00::2]:65535", "pod-1.ns.svc:1", "a:9"]
REJECTED = [
    "nope",
    "10.0.0.1",
    "10.0.0.1:0",
    "10.0.0.1:65536",
    "10.0.0.1:99999",
    "10.0.0.1:080x",
    "a:1\n",
    ":80",
    "host name:80",
    "10.0.0.1:٨٠",  # digits of another script
]


@pytest.mark.parametrize("address", ACCEPTED)
def test_valid_addresses_pass_both_checks(address: str) -> None:
    assert validate_address(address) == address
    assert EndpointRemoved(source="s", pool="a/b", address=address).address == address


@pytest.mark.parametrize("address", REJECTED)
def test_invalid_addresses_fail_both_checks_naming_the_rule(address: str) -> None:
    with pytest.raises(ValueError, match="must be ip:port"):
        validate_address(address)
    with pytest.raises(ValidationError, match="must be ip:port"):
        EndpointRemoved(source="s", pool="a/b", address=address)


def test_every_fallback_is_checked() -> None:
    with pytest.raises(ValidationError, match=r"fallbacks\.1\n.*must be ip:port"):
        RequestRouted(
            source="s",
            pool="a/b",
            request_id="r",
            model="m",
            target="10.0.0.1:80",
            fallbacks=("10.0.0.2:80", "bad"),
            picker="p",
        )
