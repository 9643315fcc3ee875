"""`gie up --discovery kubernetes` options, and the settings ingest is started with."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gie_cli import stack_commands
from gie_cli.app import app
from gie_cli.devstack import StackOptions, StackState, StateStore
from gie_cli.devstack.stack import _Starter


def _ingest_env(tmp_path: Path, options: StackOptions, kubeconfig: Path | None) -> dict[str, str]:
    state = StackState(
        state_dir=tmp_path,
        data_dir=tmp_path / "data",
        pool=options.pool,
        discovery=options.discovery,
        kubeconfig=kubeconfig,
    )
    starter = _Starter(StateStore(tmp_path), state, options)
    return starter._service_env(tmp_path / "data" / "pool.yaml")["ingest"]


def test_ingest_watches_the_stacks_kubernetes_api(tmp_path: Path) -> None:
    options = StackOptions(state_dir=tmp_path, discovery="kubernetes", pool="default/chat")
    env = _ingest_env(tmp_path, options, tmp_path / "kubeconfig")
    assert env == {
        "GIE_DISCOVERY": "kubernetes",
        "GIE_KUBECONFIG": str(tmp_path / "kubeconfig"),
        "GIE_POOL_GROUP": "inference.networking.k8s.io",
    }


def test_ingest_reads_the_pool_file_by_default(tmp_path: Path) -> None:
    env = _ingest_env(tmp_path, StackOptions(state_dir=tmp_path), None)
    assert env == {"GIE_POOL_FILE": str(tmp_path / "data" / "pool.yaml")}


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[StackOptions]:
    calls: list[StackOptions] = []

    async def fake_up(options: StackOptions, *, detach: bool) -> int:
        calls.append(options)
        return 0

    monkeypatch.setattr(stack_commands, "_up", fake_up)
    return calls


@pytest.mark.parametrize(
    ("args", "discovery", "spares"),
    [
        ([], "file", 0),
        (["--discovery", "kubernetes"], "kubernetes", 1),
        (["--discovery", "kubernetes", "--spare-sims", "0"], "kubernetes", 0),
        (["--discovery", "kubernetes", "--spare-sims", "3"], "kubernetes", 3),
    ],
    ids=["default-file", "kubernetes", "no-spares", "three-spares"],
)
def test_gie_up_passes_discovery_and_spares(
    args: list[str], discovery: str, spares: int, seen: list[StackOptions], tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, ["up", *args, "--detach", "--state-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    [options] = seen
    assert (options.discovery, options.spares) == (discovery, spares)


def test_gie_up_passes_the_crds_folder(seen: list[StackOptions], tmp_path: Path) -> None:
    crds = tmp_path / "crds"
    crds.mkdir()
    args = ["up", "--discovery", "kubernetes", "--crds", str(crds), "--state-dir", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert [options.crds_dir for options in seen] == [crds.resolve()]


@pytest.mark.parametrize(
    "args",
    [["--spare-sims", "1"], ["--crds", "."]],
    ids=["spares", "crds"],
)
def test_kubernetes_only_options_are_refused_with_a_pool_file(
    args: list[str], seen: list[StackOptions], tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, ["up", *args, "--state-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "need --discovery kubernetes" in " ".join(result.output.replace("│", " ").split())
    assert seen == []


def test_an_unknown_discovery_is_refused(seen: list[StackOptions], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["up", "--discovery", "dns", "--state-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "--discovery" in result.output
    assert seen == []


@pytest.mark.parametrize(
    ("args", "names"),
    [
        ([], ()),
        (["--served-model-name", "a"], ("a",)),
        (["--served-model-name", "a,b", "--served-model-name", "c"], ("a", "b", "c")),
    ],
    ids=["none", "one", "comma-and-repeated"],
)
def test_gie_up_passes_served_model_names(
    args: list[str], names: tuple[str, ...], seen: list[StackOptions], tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, ["up", *args, "--state-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert [options.served_model_names for options in seen] == [names]
