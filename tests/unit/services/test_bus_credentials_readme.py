"""Every service README's "Bus credentials" table lists the NATS (and for the
flow-controller the Redis) credential settings with their defaults and descriptions,
as the settings declare them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from gie.config import ServiceSettings
from gie_flow_controller.settings import FlowControllerSettings

SERVICES = Path(__file__).resolve().parents[3] / "services"
NATS = ("nats_user", "nats_password_file", "nats_tls_ca_file", "nats_tls_cert_file")
NATS += ("nats_tls_key_file",)
REDIS = ("redis_username", "redis_password_file", "redis_tls_ca_file")


def rows(settings: type[BaseSettings], names: tuple[str, ...]) -> list[str]:
    out = []
    for name in names:
        field = settings.model_fields[name]
        shown = "(unset)" if field.default is None else str(field.default)
        out.append(f"| `GIE_{name.upper()}` | `{shown}` | {field.description} |")
    return out


def credentials_table(service: str) -> list[str]:
    lines = (SERVICES / service / "README.md").read_text().splitlines()
    start = lines.index("## Bus credentials")
    table: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        if line.startswith("| `GIE_"):
            table.append(line)
    return table


@pytest.mark.parametrize("service", ["ingest", "metrics-collector", "picker"])
def test_each_service_readme_lists_its_nats_credentials(service: str) -> None:
    assert credentials_table(service) == rows(ServiceSettings, NATS)


def test_the_flow_controller_readme_lists_its_nats_and_redis_credentials() -> None:
    expected = rows(ServiceSettings, NATS) + rows(FlowControllerSettings, REDIS)
    assert credentials_table("flow-controller") == expected
