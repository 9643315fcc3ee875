"""EndpointPickerConfig: upstream documents load unchanged, defaults, precise errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from gie_picker.config import (
    ConfigError,
    ProfilePlugin,
    default_config,
    default_config_text,
    load_config,
    load_text,
    render_effective,
)

HEAD = "apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\n"

EVERY_PLUGIN = (
    HEAD
    + """\
featureGates: [flowControl]
saturationDetector:
  queueDepthThreshold: 8
  kvCacheUtilThreshold: 0.9
  metricsStalenessThreshold: 1s
plugins:
- type: header-based-testing-filter
- type: queue-scorer
- type: kv-cache-utilization-scorer
- type: lora-affinity-scorer
- name: inflight
  type: active-request-scorer
  parameters: {idleThreshold: 2, maxBusyScore: 0.5}
- name: prefix
  type: prefix-cache-scorer
  parameters:
    blockSize: 32
    maxPrefixBlocksToMatch: 128
    lruCapacityPerServer: 1000
    autoTune: false
- type: max-score-picker
  parameters: {maxNumOfEndpoints: 2}
- type: random-picker
- type: weighted-random-picker
  parameters: {maxNumOfEndpoints: 3}
- type: single-profile-handler
schedulingProfiles:
- name: everything
  plugins:
  - pluginRef: header-based-testing-filter
  - {pluginRef: queue-scorer, weight: 2}
  - pluginRef: kv-cache-utilization-scorer
  - {pluginRef: lora-affinity-scorer, weight: 0}
  - {pluginRef: inflight, weight: 4}
  - {pluginRef: prefix, weight: 3}
  - pluginRef: weighted-random-picker
"""
)


def test_upstream_chart_default_loads_with_upstream_defaults() -> None:
    config = default_config()
    assert [(p.name, p.type) for p in config.plugins] == [
        ("queue-scorer", "queue-scorer"),
        ("kv-cache-utilization-scorer", "kv-cache-utilization-scorer"),
        ("prefix-cache-scorer", "prefix-cache-scorer"),
        ("single-profile-handler", "single-profile-handler"),
        ("max-score-picker", "max-score-picker"),
    ]
    (profile,) = config.profiles
    assert profile.name == "default"
    assert profile.plugins == (
        ProfilePlugin("queue-scorer", 2),
        ProfilePlugin("kv-cache-utilization-scorer", 2),
        ProfilePlugin("prefix-cache-scorer", 3),
        ProfilePlugin("max-score-picker"),
    )
    assert config.profile_handler == "single-profile-handler"
    assert (
        config.plugin("prefix-cache-scorer").parameters.model_dump(by_alias=True)["blockSize"] == 64
    )
    assert config.saturation.queue_depth_threshold == 5
    assert config.saturation.kv_cache_util_threshold == 0.8
    assert config.saturation.metrics_staleness_s == 0.2
    assert not config.feature_enabled("flowControl")
    assert config.warnings == ()


def test_a_config_using_every_builtin_plugin_loads_unchanged() -> None:
    config = load_text(EVERY_PLUGIN)
    assert len(config.plugins) == 10  # nothing added: handler and pickers are given
    assert config.plugin("inflight").parameters.model_dump(by_alias=True, exclude_none=True) == {
        "idleThreshold": 2,
        "maxBusyScore": 0.5,
    }
    assert config.plugin("weighted-random-picker").parameters.model_dump(by_alias=True) == {
        "maxNumOfEndpoints": 3
    }
    weights = {ref.plugin_ref: ref.weight for ref in config.profiles[0].plugins}
    assert weights == {
        "header-based-testing-filter": None,
        "queue-scorer": 2,
        "kv-cache-utilization-scorer": 1,
        "lora-affinity-scorer": 0,
        "inflight": 4,
        "prefix": 3,
        "weighted-random-picker": None,
    }
    assert config.feature_enabled("flowControl")
    assert config.saturation.queue_depth_threshold == 8
    assert config.saturation.metrics_staleness_s == 1.0


def test_without_profiles_one_default_profile_uses_every_scheduling_plugin() -> None:
    config = load_text(HEAD + "plugins:\n- type: lora-affinity-scorer\n- type: random-picker\n")
    assert [(p.name, p.plugins) for p in config.profiles] == [
        ("default", (ProfilePlugin("lora-affinity-scorer", 1), ProfilePlugin("random-picker")))
    ]
    assert [p.type for p in config.plugins][-1] == "single-profile-handler"


def test_a_profile_without_picker_gets_the_first_listed_picker() -> None:
    config = load_text(
        HEAD
        + "plugins:\n- type: queue-scorer\n- type: random-picker\n- type: max-score-picker\n"
        + "schedulingProfiles:\n- name: p\n  plugins: [{pluginRef: queue-scorer}]\n"
    )
    assert config.profiles[0].plugins == (
        ProfilePlugin("queue-scorer", 1),
        ProfilePlugin("random-picker"),
    )


def test_an_empty_config_gets_a_handler_and_a_max_score_picker() -> None:
    config = load_text(HEAD)
    assert [p.name for p in config.plugins] == ["single-profile-handler", "max-score-picker"]
    assert config.profiles[0].plugins == (ProfilePlugin("max-score-picker"),)


def test_zero_saturation_values_mean_the_default_as_upstream() -> None:
    text = (
        HEAD
        + "saturationDetector:\n  queueDepthThreshold: 0\n  kvCacheUtilThreshold: 0.0\n"
        + "  metricsStalenessThreshold: 0s\n"
    )
    assert load_text(text).saturation == default_config().saturation


@pytest.mark.parametrize(
    ("value", "field", "message"),
    [
        ("{kvCacheUtilThreshold: 1.5}", "kvCacheUtilThreshold", "less than or equal to 1"),
        ("{kvCacheUtilThreshold: .nan}", "kvCacheUtilThreshold", "a finite number"),
        ("{kvCacheUtilThreshold: .inf}", "kvCacheUtilThreshold", "a finite number"),
        ("{metricsStalenessThreshold: .inf}", "metricsStalenessThreshold", "must be finite"),
    ],
    ids=["kv-above-one", "kv-nan", "kv-inf", "staleness-inf"],
)
def test_an_out_of_range_saturation_value_is_a_problem_naming_the_field(
    value: str, field: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(HEAD + f"saturationDetector: {value}\n")
    [found] = caught.value.problems
    assert found.startswith(f"saturationDetector.{field}: ")
    assert message in found


def test_null_saturation_values_mean_the_default_as_zero_does() -> None:
    text = HEAD + "saturationDetector:\n  queueDepthThreshold:\n  kvCacheUtilThreshold: null\n"
    assert load_text(text).saturation == default_config().saturation


def test_unknown_feature_gates_are_ignored_with_a_warning() -> None:
    config = load_text(HEAD + "featureGates: [flowControl, dataLayer]\n")
    assert config.feature_gates == frozenset({"flowControl"})
    assert config.warnings == (
        'featureGates: "dataLayer" is not a feature gate gie knows; ignored (known: flowControl)',
    )


def test_deprecated_parameter_is_a_warning_naming_the_plugin() -> None:
    config = load_text(
        HEAD + "plugins:\n- {type: active-request-scorer, parameters: {requestTimeout: 2m}}\n"
    )
    assert config.warnings == (
        'plugins[0] (name "active-request-scorer", type "active-request-scorer"): '
        "parameters.requestTimeout is deprecated and ignored",
    )


def test_a_scorer_listed_twice_in_a_profile_is_a_warning() -> None:
    config = load_text(
        profile("[{pluginRef: queue-scorer}, {pluginRef: queue-scorer}]", "type: queue-scorer")
    )
    assert config.warnings == (
        'schedulingProfiles[0] (name "p"): plugins[1] (pluginRef "queue-scorer"): repeats '
        "plugins[0]; a scorer listed twice counts twice",
    )


@pytest.mark.parametrize(
    "text", [default_config_text(), EVERY_PLUGIN], ids=["default", "every-plugin"]
)
def test_rendered_effective_config_loads_back_to_the_same(text: str) -> None:
    config = load_text(text)
    rendered = render_effective(config)
    assert load_text(rendered) == config
    assert "maxNumOfEndpoints" in rendered and "metricsStalenessThreshold" in rendered


def test_load_config_reads_a_file_given_as_path_or_string(tmp_path: Path) -> None:
    path = tmp_path / "epp.yaml"
    path.write_text(default_config_text())
    assert load_config(path) == load_config(str(path)) == default_config()
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


def plugins(*lines: str) -> str:
    return HEAD + "plugins:\n" + "".join(f"- {line}\n" for line in lines)


def profile(refs: str, *plugin_lines: str) -> str:
    return plugins(*plugin_lines) + f"schedulingProfiles:\n- name: p\n  plugins: {refs}\n"


MALFORMED = [
    pytest.param(
        plugins("type: prefix-cache-scorr"),
        'plugins[0] (name "prefix-cache-scorr", type "prefix-cache-scorr"): type: unknown plugin '
        'type "prefix-cache-scorr"; known types: active-request-scorer, '
        "header-based-testing-filter, kv-cache-utilization-scorer, lora-affinity-scorer, "
        "max-score-picker, no-hit-lru-scorer, precise-prefix-cache-scorer, "
        "prefix-cache-scorer, queue-scorer, random-picker, "
        "session-affinity-scorer, single-profile-handler, weighted-random-picker",
        id="unknown-plugin-type",
    ),
    pytest.param(
        plugins("{name: prefix, type: prefix-cache-scorer, parameters: {blockSise: 16}}"),
        'plugins[0] (name "prefix", type "prefix-cache-scorer"): parameters.blockSise: unknown '
        "field; expected one of: autoTune, blockSize, maxPrefixBlocksToMatch, lruCapacityPerServer",
        id="unknown-parameter",
    ),
    pytest.param(
        plugins(
            "type: queue-scorer",
            "{name: prefix, type: prefix-cache-scorer, parameters: {blockSize: 0}}",
        ),
        'plugins[1] (name "prefix", type "prefix-cache-scorer"): parameters.blockSize: '
        "Input should be greater than 0",
        id="parameter-out-of-range",
    ),
    pytest.param(
        plugins("{type: max-score-picker, parameters: {maxNumOfEndpoints: '2'}}"),
        'plugins[0] (name "max-score-picker", type "max-score-picker"): '
        "parameters.maxNumOfEndpoints: Input should be a valid integer",
        id="parameter-of-wrong-type",
    ),
    pytest.param(
        profile("[{pluginRef: queue-scorer, weight: -1}]", "type: queue-scorer"),
        'schedulingProfiles[0] (name "p"): plugins[0] (pluginRef "queue-scorer", type '
        '"queue-scorer"): weight: Input should be greater than or equal to 0',
        id="negative-weight",
    ),
    pytest.param(
        profile("[{pluginRef: queue-scorer, weight: 1.5}]", "type: queue-scorer"),
        'schedulingProfiles[0] (name "p"): plugins[0] (pluginRef "queue-scorer", type '
        '"queue-scorer"): weight: Input should be a valid integer',
        id="fractional-weight",
    ),
    pytest.param(
        profile("[{pluginRef: queue-scorer, weight: 1" + "0" * 30 + "}]", "type: queue-scorer"),
        'schedulingProfiles[0] (name "p"): plugins[0] (pluginRef "queue-scorer", type '
        '"queue-scorer"): weight: Input should be less than or equal to 1000000',
        id="huge-weight",
    ),
    pytest.param(
        plugins("type: queue-scorer\n  type: kv-cache-utilization-scorer"),
        "not valid YAML (line 5, column 3): duplicate key 'type'",
        id="repeated-key",
    ),
    pytest.param(
        profile("[{pluginRef: random-picker, weight: 2}]", "type: random-picker"),
        'schedulingProfiles[0] (name "p"): plugins[0] (pluginRef "random-picker", type '
        '"random-picker"): weight: only scorers take a weight',
        id="weight-on-a-picker",
    ),
    pytest.param(
        profile("[{pluginRef: queue}]", "type: queue-scorer"),
        'schedulingProfiles[0] (name "p"): plugins[0] (pluginRef "queue"): pluginRef: no plugin '
        'is named "queue"; plugins are: queue-scorer, single-profile-handler, max-score-picker',
        id="reference-to-a-missing-plugin",
    ),
    pytest.param(
        plugins("type: queue-scorer", "{name: queue-scorer, type: kv-cache-utilization-scorer}"),
        'plugins[1] (name "queue-scorer", type "kv-cache-utilization-scorer"): name: '
        '"queue-scorer" is already the name of plugins[0]',
        id="duplicate-plugin-names",
    ),
    pytest.param(
        "apiVersion: inference.networking.k8s.io/v1\nkind: EndpointPickerConfig\n",
        "apiVersion: Input should be 'inference.networking.x-k8s.io/v1alpha1', "
        "got 'inference.networking.k8s.io/v1'",
        id="wrong-api-version",
    ),
    pytest.param(
        "apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: InferencePool\n",
        "kind: Input should be 'EndpointPickerConfig', got 'InferencePool'",
        id="wrong-kind",
    ),
    pytest.param(
        profile(
            "[{pluginRef: random-picker}, {pluginRef: max-score-picker}]",
            "type: random-picker",
            "type: max-score-picker",
        ),
        'schedulingProfiles[0] (name "p"): plugins[1] (pluginRef "max-score-picker", type '
        '"max-score-picker"): a profile has one picker, and "random-picker" is this one\'s',
        id="two-pickers-in-one-profile",
    ),
    pytest.param(
        HEAD + "saturationDetector: {queueDepthThreshold: -1}\n",
        "saturationDetector.queueDepthThreshold: Input should be greater than or equal to 0",
        id="negative-queue-depth",
    ),
    pytest.param(
        HEAD + "saturationDetector: {metricsStalenessThreshold: soon}\n",
        "saturationDetector.metricsStalenessThreshold: "
        "not a duration like '200ms' or '1.5s': 'soon'",
        id="bad-staleness-duration",
    ),
    pytest.param(
        HEAD + "saturationDetector: {metricsStalenessThreshold: 200}\n",
        "saturationDetector.metricsStalenessThreshold: "
        "a duration needs a unit, such as '200s' or '200ms'; got 200",
        id="staleness-without-unit",
    ),
    pytest.param(
        HEAD + "flowControl: {defaultRequestTTL: 30}\n",
        "flowControl.defaultRequestTTL: a duration needs a unit, such as '30s' or '30ms'; got 30",
        id="ttl-without-unit",
    ),
    pytest.param(
        plugins("{type: max-score-picker, parameters: {max_num_of_endpoints: 3}}"),
        'plugins[0] (name "max-score-picker", type "max-score-picker"): '
        "parameters.max_num_of_endpoints: unknown field; expected one of: maxNumOfEndpoints",
        id="parameter-in-snake-case",
    ),
    pytest.param(
        HEAD + "saturationDetector: {queueDepth: 3}\n",
        "saturationDetector.queueDepth: unknown field; expected one of: queueDepthThreshold, "
        "kvCacheUtilThreshold, metricsStalenessThreshold",
        id="unknown-saturation-field",
    ),
    pytest.param(
        HEAD + "plugins: [{type: queue-scorer}\n",
        "not valid YAML (line 4, column 1): expected ',' or ']', but got '<stream end>'",
        id="not-yaml",
    ),
    pytest.param(
        "- just\n- a list\n",
        "the configuration must be a YAML mapping, not list",
        id="not-a-mapping",
    ),
    pytest.param(
        HEAD + "schedulingProfiles:\n- plugins: []\n",
        "schedulingProfiles[0]: name: required field is missing",
        id="profile-without-name",
    ),
    pytest.param(
        plugins("name: nameless"),
        'plugins[0] (name "nameless"): type: required field is missing',
        id="plugin-without-type",
    ),
    pytest.param(
        plugins("type: queue-scorer\n  paramaters: {}"),
        'plugins[0] (name "queue-scorer", type "queue-scorer"): paramaters: unknown field; '
        "expected one of: name, type, parameters",
        id="misspelt-plugin-field",
    ),
    pytest.param(
        HEAD + "schedulingProfile: []\n",
        "schedulingProfile: unknown field; expected one of: apiVersion, kind, plugins, "
        "schedulingProfiles, featureGates, saturationDetector, flowControl",
        id="misspelt-top-level-field",
    ),
    pytest.param(
        plugins("type: single-profile-handler", "{name: second, type: single-profile-handler}"),
        'plugins[1] (name "second", type "single-profile-handler"): only one profile handler is '
        'allowed, and "single-profile-handler" is one already',
        id="two-profile-handlers",
    ),
    pytest.param(
        profile("[{pluginRef: single-profile-handler}]", "type: single-profile-handler"),
        'schedulingProfiles[0] (name "p"): plugins[0] (pluginRef "single-profile-handler", type '
        '"single-profile-handler"): a profile handler cannot be part of a profile',
        id="handler-inside-a-profile",
    ),
    pytest.param(
        plugins("type: single-profile-handler") + "schedulingProfiles:\n- name: a\n- name: b\n",
        'plugins[0] (name "single-profile-handler", type "single-profile-handler"): runs exactly '
        "one scheduling profile, but 2 are defined",
        id="single-profile-handler-with-two-profiles",
    ),
    pytest.param(
        plugins("{type: active-request-scorer, parameters: {maxBusyScore: 1.5}}"),
        'plugins[0] (name "active-request-scorer", type "active-request-scorer"): '
        "parameters.maxBusyScore: Input should be less than or equal to 1",
        id="max-busy-score-above-1",
    ),
    pytest.param(
        plugins("{name: max-score-picker, type: queue-scorer}"),
        'plugins[0] (name "max-score-picker", type "queue-scorer"): name: "max-score-picker" is '
        "the name of a plugin gie adds by default; rename this one",
        id="name-taken-from-a-default-plugin",
    ),
]


@pytest.mark.parametrize(("text", "expected"), MALFORMED)
def test_malformed_config_gives_a_precise_error(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(text)
    assert caught.value.problems == (expected,)


def test_every_problem_of_a_phase_is_reported_at_once() -> None:
    text = (
        plugins(
            "type: no-such-scorer",
            "{type: prefix-cache-scorer, parameters: {blockSize: -1}}",
        )
        + "saturationDetector: {kvCacheUtilThreshold: 2}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_text(text)
    assert [p.split(":")[0] for p in caught.value.problems] == [
        "saturationDetector.kvCacheUtilThreshold",
        'plugins[0] (name "no-such-scorer", type "no-such-scorer")',
        'plugins[1] (name "prefix-cache-scorer", type "prefix-cache-scorer")',
    ]
    assert "3 problems" in str(caught.value)


def test_the_flow_control_section_loads_with_the_flow_controllers_model() -> None:
    config = load_text(
        HEAD
        + "featureGates: [flowControl]\n"
        + "flowControl:\n  shardCount: 2\n  defaultRequestTTL: 30s\n"
        + "  defaultPriorityBand: {fairnessPolicy: virtual-token-fairness}\n"
    )
    assert config.feature_enabled("flowControl")
    assert config.flow_control.shard_count == 2
    assert config.flow_control.default_request_ttl_s == 30.0
    assert load_text(render_effective(config)) == config


def test_a_bad_flow_control_section_names_the_field() -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(HEAD + "flowControl: {shardCount: 0, bogus: 1}\n")
    problems = "\n".join(caught.value.problems)
    assert "flowControl.shardCount: Input should be greater than or equal to 1" in problems
    assert "flowControl.bogus: unknown field" in problems
