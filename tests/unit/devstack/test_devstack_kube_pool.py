"""Kubernetes discovery of the local stack: the objects it creates, where sims listen."""

from __future__ import annotations

import socket
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest
import yaml

from gie_cli.devstack import KubeSeedError, StackOptions
from gie_cli.devstack.kube_objects import app_label_value, crd_documents
from gie_cli.devstack.kube_pool import MAX_SIMS, KubePool, default_crds_dir, sim_host
from gie_cli.devstack.kube_seed import object_path
from gie_cli.devstack.parts import kube_launch, sim_launch, sim_parts
from gie_cli.kube.kubelet import SIMULATOR_ANNOTATION


def _pool(
    tmp_path: Path, *, sims: int = 3, spares: int = 1, pool: str = "default/sim-pool"
) -> KubePool:
    return KubePool(
        pool=pool,
        model="sim-llama",
        sims=sims,
        spares=spares,
        crds_dir=default_crds_dir(),
        manifests_dir=tmp_path / "pods",
    )


@pytest.mark.parametrize(
    ("model", "label"),
    [
        ("sim-llama", "sim-llama"),
        ("meta-llama/Llama-3.1-8B", "meta-llama-Llama-3.1-8B"),
        ("/weird:name/", "weird-name"),
        ("x" * 80, "x" * 63),
        ("///", "sim"),
    ],
    ids=["plain", "slash", "edges-trimmed", "too-long", "nothing-left"],
)
def test_app_label_is_a_valid_label_value(model: str, label: str) -> None:
    assert app_label_value(model) == label


def test_each_simulator_has_its_own_loopback_address_and_all_share_one_free_port(
    tmp_path: Path,
) -> None:
    kube = _pool(tmp_path, sims=3, spares=2)
    hosts = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"]
    assert kube.endpoints == [f"{host}:{kube.port}" for host in hosts]
    assert kube.spare_endpoints == kube.endpoints[3:]
    with ExitStack() as stack:  # the port was free on every address
        for host in hosts:
            stack.enter_context(socket.socket()).bind((host, kube.port))


def test_pods_are_annotated_for_the_kubelet_and_selected_by_the_pool(tmp_path: Path) -> None:
    kube = _pool(tmp_path, sims=2, spares=1)
    objects = kube.objects({"critical": 10})
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("InferencePool", "sim-pool"),
        ("InferenceObjective", "critical"),
        ("Pod", "sim-0"),
        ("Pod", "sim-1"),
    ]
    pool, objective, *pods = objects
    assert pool["apiVersion"] == "inference.networking.k8s.io/v1"
    assert pool["spec"] == {
        "selector": {"matchLabels": {"app": "sim-llama"}},
        "targetPorts": [{"number": kube.port}],
    }
    assert objective["spec"]["priority"] == 10
    assert objective["spec"]["poolRef"]["name"] == "sim-pool"
    for pod, endpoint in zip(pods, kube.endpoints, strict=False):
        assert pod["metadata"]["namespace"] == "default"
        assert pod["metadata"]["labels"] == {"app": "sim-llama"}
        assert pod["metadata"]["annotations"] == {SIMULATOR_ANNOTATION: endpoint}
        (container,) = pod["spec"]["containers"]
        assert container["ports"][0]["containerPort"] == kube.port


def test_a_pool_outside_default_creates_its_namespace_first(tmp_path: Path) -> None:
    objects = _pool(tmp_path, pool="team-a/chat").objects({})
    assert (objects[0]["kind"], objects[0]["metadata"]["name"]) == ("Namespace", "team-a")
    assert {o["metadata"].get("namespace") for o in objects[1:]} == {"team-a"}


def test_every_simulator_gets_a_manifest_for_kubectl_apply(tmp_path: Path) -> None:
    kube = _pool(tmp_path, sims=2, spares=1)
    kube.write_manifests()
    addresses = kube.part_addresses()
    assert [Path(a["manifest"]).name for a in addresses] == [
        "sim-0.yaml",
        "sim-1.yaml",
        "sim-2.yaml",
    ]
    spare = yaml.safe_load(Path(addresses[2]["manifest"]).read_text())
    assert spare == kube.pod(2)
    assert spare["metadata"]["annotations"][SIMULATOR_ANNOTATION] == kube.spare_endpoints[0]


def test_missing_crds_folder_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(KubeSeedError, match="--crds"):
        KubePool(
            pool="default/p",
            model="m",
            sims=1,
            spares=0,
            crds_dir=tmp_path / "nope",
            manifests_dir=tmp_path,
        )


def test_too_many_simulators_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KubeSeedError, match=f"at most {MAX_SIMS}"):
        _pool(tmp_path, sims=MAX_SIMS, spares=1)
    with pytest.raises(ValueError, match="outside"):
        sim_host(MAX_SIMS)


def test_the_charts_crds_are_found_and_read() -> None:
    names = sorted(crd["metadata"]["name"] for crd in crd_documents(default_crds_dir()))
    assert names == [
        "inferencemodelrewrites.llm-d.ai",
        "inferenceobjectives.inference.networking.x-k8s.io",
        "inferenceobjectives.llm-d.ai",
        "inferencepools.inference.networking.k8s.io",
        "inferencepools.inference.networking.x-k8s.io",
    ]


@pytest.mark.parametrize(
    ("obj", "path"),
    [
        (
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},
            "/api/v1/namespaces",
        ),
        (
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "a"}},
            "/api/v1/namespaces/a/pods",
        ),
        (
            {
                "apiVersion": "inference.networking.k8s.io/v1",
                "kind": "InferencePool",
                "metadata": {"name": "p", "namespace": "a"},
            },
            "/apis/inference.networking.k8s.io/v1/namespaces/a/inferencepools",
        ),
    ],
    ids=["namespace", "pod", "pool"],
)
def test_object_paths(obj: dict[str, object], path: str) -> None:
    assert object_path(obj) == path  # type: ignore[arg-type]


def test_sims_listen_on_their_own_addresses_and_parts_carry_the_manifest() -> None:
    listen = ["127.0.0.2:9000", "127.0.0.3:9000"]
    launch = sim_launch(count=2, time_scale=1, model="m", ready_file=Path("r"), listen=listen)
    assert launch.argv[3:5] == ["--listen", "127.0.0.2:9000,127.0.0.3:9000"]
    with pytest.raises(ValueError, match="2 listen addresses for 3"):
        sim_launch(count=3, time_scale=1, model="m", ready_file=Path("r"), listen=listen)
    parts = sim_parts(listen, extra=[{"manifest": "a.yaml"}, {"manifest": "b.yaml"}])
    assert parts[1].addresses == {"endpoint": "127.0.0.3:9000", "manifest": "b.yaml"}


def test_kube_api_part() -> None:
    launch = kube_launch(port=9443, kubeconfig=Path("/s/kubeconfig"))
    assert launch.argv == [
        sys.executable, "-m", "gie_cli", "kube", "serve", "--port", "9443",
        "--kubeconfig", "/s/kubeconfig",
    ]  # fmt: skip
    (part,) = launch.parts
    assert (part.name, part.kind, part.health_url) == (
        "kube-api",
        "kube-api",
        "http://127.0.0.1:9443/readyz",
    )
    assert part.addresses["kubeconfig"] == "/s/kubeconfig"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"spare_sims": 1}, "need Kubernetes discovery"),
        ({"discovery": "kubernetes", "endpoints": ("127.0.0.1:8000",)}, "drop the endpoints"),
        ({"discovery": "kubernetes", "spare_sims": -1}, "spare_sims must be >= 0"),
    ],
    ids=["spares-with-file", "endpoints-with-kubernetes", "negative-spares"],
)
def test_stack_options_refuse_what_kubernetes_discovery_cannot_do(
    options: dict[str, object], message: str, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match=message):
        StackOptions(state_dir=tmp_path, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "spares"),
    [({}, 0), ({"discovery": "kubernetes"}, 1), ({"discovery": "kubernetes", "spare_sims": 3}, 3)],
    ids=["file", "kubernetes-default", "kubernetes-3"],
)
def test_spare_simulators(options: dict[str, object], spares: int, tmp_path: Path) -> None:
    assert StackOptions(state_dir=tmp_path, **options).spares == spares  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("names", "served"),
    [((), None), (("a", "b"), "m,a,b"), (("m", "a"), "m,a")],
    ids=["model-only", "two-more", "model-named-again"],
)
def test_sims_answer_to_the_model_and_every_served_name(
    names: tuple[str, ...], served: str | None
) -> None:
    argv = sim_launch(
        count=1, time_scale=1, model="m", ready_file=Path("r"), served_names=names
    ).argv
    if served is None:
        assert "--served-model-name" not in argv
    else:
        assert argv[argv.index("--served-model-name") + 1] == served
