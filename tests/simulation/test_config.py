"""ExperimentConfig: defaults, overrides, and one-line errors for bad input."""

import pytest

from socialsim.core.errors import ConfigError
from socialsim.simulation.config import ExperimentConfig, apply_overrides


def test_defaults_fill_every_section():
    cfg = ExperimentConfig.from_dict({})
    assert cfg.network.kind == "watts_strogatz"
    assert cfg.agents.policy == "llm"
    assert cfg.agents.llm.model == "local/smollm2"
    assert cfg.output.formats == ["jsonl", "parquet", "csv"]
    assert "population:" in cfg.to_yaml()


def test_unknown_network_kind_names_field_value_and_allowed():
    with pytest.raises(ConfigError) as err:
        ExperimentConfig.from_dict({"network": {"kind": "hexagonal"}})
    msg = str(err.value)
    assert "network.kind" in msg and "'hexagonal'" in msg and "erdos_renyi" in msg
    assert "\n" not in msg


def test_unknown_key_is_reported():
    with pytest.raises(ConfigError, match=r"population\.sise: unknown key"):
        ExperimentConfig.from_dict({"population": {"sise": 3}})


def test_range_errors_name_the_field():
    with pytest.raises(ConfigError, match=r"agents\.llm\.temperature"):
        ExperimentConfig.from_dict({"agents": {"llm": {"temperature": 9}}})


def test_mix_fractions_over_one_rejected():
    data = {
        "agents": {
            "mix": [{"fraction": 0.7, "policy": "voter"}, {"fraction": 0.6, "policy": "degroot"}]
        }
    }
    with pytest.raises(ConfigError, match="sum to at most 1"):
        ExperimentConfig.from_dict(data)


def test_yaml_syntax_error_has_line_number(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nnetwork:\n  kind: [ring\n")
    with pytest.raises(ConfigError, match=r"line \d+"):
        ExperimentConfig.from_yaml(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        ExperimentConfig.from_yaml(tmp_path / "nope.yaml")


def test_overrides_parse_yaml_scalars_and_create_sections(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("name: x\nsteps: 3\n")
    cfg = ExperimentConfig.from_yaml(
        path, overrides=["steps=20", "network.kind=ring", "agents.params.initial=0.25"]
    )
    assert cfg.steps == 20 and cfg.network.kind == "ring"
    assert cfg.agents.params == {"initial": 0.25}


def test_override_without_equals_is_an_error():
    with pytest.raises(ConfigError, match="key=value"):
        apply_overrides({}, ["steps"])


def test_with_overrides_keeps_original():
    cfg = ExperimentConfig.from_dict({"steps": 2})
    other = cfg.with_overrides({"steps": 5, "seed": 3})
    assert (cfg.steps, other.steps, other.seed) == (2, 5, 3)
