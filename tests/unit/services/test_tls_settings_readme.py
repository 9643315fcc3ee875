"""The READMEs of the services that serve gRPC list every TLS setting with its default
and description, as gie.tls declares them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from gie.tls import FlowControlClientTlsSettings, GrpcServerTlsSettings
from gie_flow_controller.settings import FlowControllerSettings
from gie_picker.settings import PickerSettings

SERVICES = Path(__file__).resolve().parents[3] / "services"


def _rows(settings: type[BaseSettings]) -> list[str]:
    rows = []
    for name, field in settings.model_fields.items():
        shown = "(unset)" if field.default is None else str(field.default)
        rows.append(f"| `GIE_{name.upper()}` | `{shown}` | {field.description} |")
    return rows


@pytest.mark.parametrize(
    ("service", "service_settings", "tls_settings"),
    [
        ("picker", PickerSettings, [GrpcServerTlsSettings, FlowControlClientTlsSettings]),
        ("flow-controller", FlowControllerSettings, [GrpcServerTlsSettings]),
    ],
    ids=["picker", "flow-controller"],
)
def test_every_tls_setting_is_in_the_readme_table(
    service: str, service_settings: type[BaseSettings], tls_settings: list[type[BaseSettings]]
) -> None:
    lines = (SERVICES / service / "README.md").read_text().splitlines()
    for settings in tls_settings:
        assert issubclass(service_settings, settings)
        for row in _rows(settings):
            assert row in lines, f"services/{service}/README.md lacks the row {row}"
