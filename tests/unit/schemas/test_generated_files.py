"""The generated contract files are current, and the generator, its check and the
freeze do what a maintainer relies on."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from gie.events import BUILTIN_EVENT_TYPES
from gie.schemas import published_schemas
from gie.schemas.asyncapi import asyncapi_document
from gie.schemas.docs import render_sections
from tests.unit.schemas.conftest import ROOT, SCRIPT, load_generator


def test_the_committed_files_are_current_and_compatible() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture
def generator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The generator pointed at a copy of schemas/ and docs/events.md."""
    module = load_generator()
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    (tmp_path / "docs").mkdir()
    shutil.copyfile(ROOT / "docs" / "events.md", tmp_path / "docs" / "events.md")
    current = tmp_path / "schemas" / "gie" / "v1"
    for name, value in {
        "ROOT": tmp_path,
        "SCHEMAS": tmp_path / "schemas",
        "CURRENT": current,
        "FROZEN": current / "frozen",
        "ASYNCAPI": tmp_path / "schemas" / "asyncapi.yaml",
        "DOCS": tmp_path / "docs" / "events.md",
    }.items():
        monkeypatch.setattr(module, name, value)
    return module


def test_a_stale_file_fails_the_check_naming_it(
    generator: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = generator.CURRENT / "RequestRouted.json"
    schema.write_text(schema.read_text().replace('"minimum": 0', '"minimum": 1'))
    (generator.CURRENT / "Leftover.json").write_text("{}")
    assert generator.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "schemas/gie/v1/RequestRouted.json" in err
    assert "schemas/gie/v1/Leftover.json" in err
    assert "run `make schemas`" in err
    assert generator.main([]) == 0  # regenerates the one, removes the other
    assert generator.main(["--check"]) == 0
    assert not (generator.CURRENT / "Leftover.json").exists()


def test_edited_prose_survives_and_an_edited_table_is_stale(generator: ModuleType) -> None:
    docs = generator.DOCS
    text = docs.read_text()
    docs.write_text(text.replace("## Batches\n", "## Batches\n\nA new paragraph.\n"))
    assert generator.main(["--check"]) == 0
    docs.write_text(text.replace("| `GIE_STATE` |", "| `GIE_OLD` |", 1))
    assert generator.main(["--check"]) == 1
    generator.main([])
    assert docs.read_text() == text


def test_a_breaking_frozen_release_fails_the_check(
    generator: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    """A frozen release that promised more than the code gives: a field the models no
    longer have (as if it had been removed from the code since)."""
    release = generator.FROZEN / "1" / "RequestCompleted.json"
    release.write_text(
        release.read_text().replace(
            '"duration_s": {', '"retired": {"type": "string"},\n"duration_s": {'
        )
    )
    assert generator.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "release 1: RequestCompleted.retired: field removed" in err


def test_freezing_twice_makes_one_release(
    generator: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    releases = sorted(p.name for p in generator.FROZEN.iterdir())
    assert generator.main(["--freeze"]) == 0
    assert "frozen already" in capsys.readouterr().out
    assert sorted(p.name for p in generator.FROZEN.iterdir()) == releases
    # A compatible change (a description) since the last release: the next one.
    schema = generator.CURRENT / "ObjectiveRemoved.json"
    schema.write_text(schema.read_text().replace("was deleted", "was removed"))
    assert generator.main(["--freeze"]) == 0
    new = generator.FROZEN / str(len(releases) + 1)
    assert (new / "ObjectiveRemoved.json").read_text() == schema.read_text()


def test_the_page_must_hold_every_section_and_no_unknown_one() -> None:
    section = "<!-- BEGIN GENERATED: {0} -->\n<!-- END GENERATED: {0} -->\n"
    contract = {
        "document": asyncapi_document(),
        "schemas": published_schemas(BUILTIN_EVENT_TYPES),
    }
    with pytest.raises(ValueError, match=r"lacks generated section\(s\): fields, headers, streams"):
        render_sections(section.format("envelope") + section.format("subjects"), **contract)
    with pytest.raises(ValueError, match="unknown generated section 'tables'"):
        render_sections(section.format("tables"), **contract)
