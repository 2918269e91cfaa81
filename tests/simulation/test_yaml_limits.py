"""Hostile YAML: aliases, depth, size, encodings, duplicate keys and huge sweeps refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialsim.core.errors import ConfigError, DataFileError
from socialsim.core.sweep_grid import check_grid_size
from socialsim.core.yaml_safe import YAMLSyntaxError, load_yaml_file, load_yaml_text
from socialsim.simulation.config import ExperimentConfig
from tests.cli_in_process import run_cli

RULE = "steps: 2\npopulation: {size: 8}\nnetwork: {kind: ring}\nagents: {policy: degroot}\n"


def laughs(levels: int = 9) -> str:
    """A flow list of the billion-laughs anchors: its last item expands to 10**levels strings."""
    items = ["&l0 [" + ", ".join(["lol"] * 10) + "]"]
    for i in range(1, levels + 1):
        items.append(f"&l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    return "[" + ", ".join(items) + "]"


def refused(tmp_path: Path, text: str | bytes, *args: str) -> str:
    """Run the config through `socialsim run`; assert exit 2, one line, nothing written."""
    path = tmp_path / "c.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    done = run_cli(*(args or ("run",)), str(path), "--out", str(tmp_path / "out"), "-q")
    assert done.code == 2, done.err
    assert len(done.err_lines) == 1 and len(done.err) < 1000, done.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]
    return done.err


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_an_alias_bomb_in_sweep_seed_is_refused_before_anything_is_written(tmp_path, command):
    err = refused(tmp_path, RULE + f"sweep: {{seed: {laughs()}}}\n", command)
    assert "aliases are expanded" in err and "SOCIALSIM_YAML_MAX_EXPANDED" in err


def test_an_alias_bomb_in_persona_names_is_refused(tmp_path):
    text = RULE.replace("{size: 8}", f"{{size: 8, personas: {{names: {laughs()}}}}}")
    err = refused(tmp_path, text)
    assert "more than 20,000,000 characters once its aliases are expanded" in err


def test_expanded_size_and_alias_count_limits_can_be_raised_for_a_trusted_file(monkeypatch):
    text = f"top: {laughs(3)}\n"  # 10,000 strings: within the defaults
    assert len(load_yaml_text(text)["top"]) == 4
    monkeypatch.setenv("SOCIALSIM_YAML_MAX_EXPANDED", "5000")
    with pytest.raises(
        ConfigError, match=r"more than 5,000 characters .* SOCIALSIM_YAML_MAX_EXPANDED"
    ):
        load_yaml_text(text, "t.yaml")
    monkeypatch.setenv("SOCIALSIM_YAML_MAX_EXPANDED", "1e6")
    monkeypatch.setenv("SOCIALSIM_YAML_MAX_ALIASES", "25")
    with pytest.raises(ConfigError, match=r"more than 25 aliases .* SOCIALSIM_YAML_MAX_ALIASES"):
        load_yaml_text(text, "t.yaml")
    monkeypatch.setenv("SOCIALSIM_YAML_MAX_ALIASES", "30")
    assert len(load_yaml_text(text)["top"]) == 4
    monkeypatch.setenv("SOCIALSIM_YAML_MAX_ALIASES", "many")
    with pytest.raises(ConfigError, match="SOCIALSIM_YAML_MAX_ALIASES='many' must be a positive"):
        load_yaml_text(text)


def test_an_alias_to_its_own_container_is_refused():
    with pytest.raises(ConfigError, match=r"\*me at line 1 refers to a node that contains it"):
        load_yaml_text("a: &me [1, *me]\n")


def test_a_duplicate_key_names_the_key_and_both_lines(tmp_path):
    err = refused(tmp_path, RULE + "seed: 1\nname: x\nseed: 2\n")
    assert "key 'seed' is given twice (line 5 and line 7); keep one" in err
    with pytest.raises(ConfigError, match=r"key 'k' is given twice \(line 1 and line 1\)"):
        load_yaml_text("p: {k: 1, k: 2}\n")
    nested = load_yaml_text("a: {k: 1}\nb: {k: 2}\n")  # the same key in two mappings is fine
    assert nested == {"a": {"k": 1}, "b": {"k": 2}}


def test_merge_keys_may_be_overridden():
    text = "base: &b {a: 1, c: 2}\nmore: {<<: *b, a: 3}\n"
    assert load_yaml_text(text)["more"] == {"a": 3, "c": 2}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (("name: caf\u00e9\n" + RULE).encode("latin-1"), "byte 0xe9 at line 1 is not UTF-8"),
        (("name: x\n" + RULE).encode("utf-16"), "the file is UTF-16 text; save it as UTF-8"),
        (b"\x00\x01" + RULE.encode(), "character U+0000 at line 1 is not allowed in YAML"),
    ],
)
def test_a_file_that_is_not_utf8_is_one_line(tmp_path, raw, message):
    assert message in refused(tmp_path, raw)


def test_a_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + ("name: bom\n" + RULE).encode())
    assert ExperimentConfig.from_yaml(path).name == "bom"


def test_deep_nesting_and_huge_numbers_are_one_line(tmp_path):
    deep = RULE + "claims: " + "[" * 5000 + "]" * 5000 + "\n"
    err = refused(tmp_path, deep)  # refused by our depth limit, or by libyaml's own (1,000)
    assert "line 5" in err and ("nesting deeper than 100 levels" in err or "nesting depth" in err)
    assert "a value cannot be read" in refused(tmp_path, RULE + "seed: " + "9" * 5000 + "\n")
    assert load_yaml_text("a: " + "[" * 99 + "]" * 99 + "\n")["a"] is not None  # depth 100
    with pytest.raises(ConfigError, match="nesting deeper than 100"):
        load_yaml_text("a: " + "[" * 100 + "]" * 100 + "\n")


def test_long_strings_and_large_files_are_refused_naming_the_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("SOCIALSIM_YAML_MAX_STRING", "100")
    err = refused(tmp_path, RULE + "name: " + "n" * 101 + "\n")
    assert "a string of 101 characters at line 5 is longer than 100" in err
    assert "SOCIALSIM_YAML_MAX_STRING" in err
    monkeypatch.delenv("SOCIALSIM_YAML_MAX_STRING")
    monkeypatch.setenv("SOCIALSIM_YAML_MAX_MB", "0.001")  # 1,048 bytes
    err = refused(tmp_path, RULE + "# padding\n" * 120)
    assert "larger than the limit of 1,048 bytes" in err and "SOCIALSIM_YAML_MAX_MB" in err


@pytest.mark.parametrize(
    ("given", "message"),
    [("folder", "is a directory"), ("/dev/zero", "is not a regular file"), ("nope.yaml", "does not exist")],
)  # fmt: skip
def test_a_config_path_that_is_not_a_file_says_what_it_is(tmp_path, given, message):
    (tmp_path / "folder").mkdir()
    done = run_cli("run", given, "--out", str(tmp_path / "out"), "-q", cwd=tmp_path)
    assert done.code == 2 and len(done.err_lines) == 1
    assert f"config file '{given}' {message}" in done.err
    assert not (tmp_path / "out").exists()


def test_data_files_go_through_the_same_limits(tmp_path):
    from socialsim.core.claims import load_claims_file

    claims = tmp_path / "claims.yaml"
    claims.write_text("- {id: a, text: one}\n- {id: b, text: two, text: three}\n")
    with pytest.raises(DataFileError, match="key 'text' is given twice"):
        load_claims_file(claims)
    with pytest.raises(DataFileError, match="claims file .* is a directory"):
        load_claims_file(tmp_path)
    with pytest.raises(YAMLSyntaxError, match="YAML syntax error at line 2, column 1"):
        load_yaml_text("a: [1, 2\n")
    claims.write_text("\ufeff- {id: a, text: one}\n", encoding="utf-8")
    assert load_yaml_file(claims, "claims file") == [{"id": "a", "text": "one"}]


def test_a_sweep_of_a_million_cells_is_refused_before_expanding(tmp_path, monkeypatch):
    grid = "".join(f"  agents.params.k{i}: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n" for i in range(6))
    err = refused(tmp_path, RULE + "sweep:\n" + grid, "sweep")
    assert "the grid has 1,000,000 cells (10 x 10 x 10 x 10 x 10 x 10 values)" in err
    assert "more than 10,000" in err and "SOCIALSIM_SWEEP_MAX_CELLS" in err
    assert check_grid_size({"a": [1, 2], "b": [1, 2, 3]}) == 6
    monkeypatch.setenv("SOCIALSIM_SWEEP_MAX_CELLS", "5")
    with pytest.raises(ConfigError, match="has 6 cells"):
        check_grid_size({"a": [1, 2], "b": [1, 2, 3]})
    from socialsim.experiments.sweep import sweep

    cfg = ExperimentConfig.from_dict({"agents": {"policy": "degroot"}})
    with pytest.raises(ConfigError, match="has 6 cells"):
        sweep(cfg, grid={"seed": [1, 2], "steps": [1, 2, 3]}, out=tmp_path / "s", executor="serial")
    assert not (tmp_path / "s").exists()
