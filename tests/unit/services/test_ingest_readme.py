"""The settings table of services/ingest/README.md lists every ingest setting with its
default and description, as the code declares them."""

from __future__ import annotations

from pathlib import Path

from pydantic_core import PydanticUndefined

from gie.config import ServiceSettings
from gie_ingest.settings import IngestSettings

README = Path(__file__).resolve().parents[3] / "services" / "ingest" / "README.md"


def expected_rows() -> list[str]:
    rows = []
    own = set(IngestSettings.model_fields) - set(ServiceSettings.model_fields) | {"admin_port"}
    for name, field in IngestSettings.model_fields.items():
        if name not in own:
            continue
        default = "(required)" if field.default is PydanticUndefined else field.default
        shown = "(unset)" if default is None else str(default)
        rows.append(f"| `GIE_{name.upper()}` | `{shown}` | {field.description} |")
    return rows


def test_the_readme_table_matches_the_settings() -> None:
    lines = README.read_text().splitlines()
    # The NATS credential rows (common settings) are checked by test_bus_credentials_readme.
    table = [
        line for line in lines if line.startswith("| `GIE_") and not line.startswith("| `GIE_NATS_")
    ]
    assert table == expected_rows()
