"""Error lines that list what is allowed stay short and point at the nearest allowed name."""

from __future__ import annotations

import pytest

from socialsim.core.errors import ConfigError
from socialsim.core.validation import choices
from socialsim.simulation.config import ExperimentConfig
from tests.cli_in_process import run_cli

BASE = {
    "name": "t",
    "steps": 1,
    "population": {"size": 6},
    "agents": {"policy": "degroot"},
    "claims": [{"id": "c1", "text": "The river is poisoned."}],
}


def test_choices_lists_all_names_when_they_fit() -> None:
    assert choices(["k", "p"]) == "k, p"
    assert choices([]) == "none"


def test_choices_cuts_at_whole_names_and_counts_the_rest() -> None:
    names = [f"parameter_{i:02d}" for i in range(40)]
    text = choices(names, limit=60)
    shown, rest = text.split(", ... ")
    assert all(name in names for name in shown.split(", "))
    assert len(shown) <= 60
    assert rest == f"({40 - len(shown.split(', '))} more)"


def test_choices_names_the_closest_even_when_it_is_cut_off() -> None:
    names = [f"parameter_{i:02d}" for i in range(40)] + ["reputation_weight"]
    text = choices(names, "reputaton_weight", limit=60)
    assert text.endswith("(did you mean 'reputation_weight'?)")
    assert "reputation_weight," not in text  # not in the cut list, only in the suggestion


def test_choices_suggests_nothing_for_a_far_name() -> None:
    assert "did you mean" not in choices(["model", "api_base"], "zzzzzz")


@pytest.mark.parametrize(
    ("overrides", "start", "near"),
    [
        (
            {"agents": {"policy": "llm", "llm": {"modle": "x"}}},
            "agents.llm.modle: unknown key",
            "model",
        ),
        ({"agents": {"policy": "degrot"}}, "agents.policy: 'degrot' is not one of", "degroot"),
        (
            {"network": {"kind": "watts_strogats"}},
            "network.kind: 'watts_strogats'",
            "watts_strogatz",
        ),
    ],
)
def test_config_errors_are_short_and_suggest(overrides, start, near) -> None:
    with pytest.raises(ConfigError) as err:
        ExperimentConfig.from_dict({**BASE, **overrides})
    line = str(err.value)
    assert start in line
    assert f"did you mean {near!r}?" in line
    assert len(line) <= 260, line


def test_long_lists_are_cut_in_the_cli_line(tmp_path) -> None:
    """Every scenario parameter of misinformation listed made a 330-character line."""
    config = tmp_path / "c.yaml"
    config.write_text(
        "name: t\nsteps: 1\npopulation: {size: 6}\nagents: {policy: degroot}\n"
        "claims: [{id: c1, text: The river is poisoned.}]\n"
        "scenario: {kind: misinformation, params: {bogus_key_zz: 1}}\n"
    )
    out = tmp_path / "out"
    result = run_cli("run", str(config), "--out", str(out))
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1
    assert "scenario.params.bogus_key_zz: unknown parameter of scenario misinformation" in lines[0]
    assert "more)" in lines[0]
    assert len(lines[0].replace(str(config), "c.yaml")) <= 220, lines[0]
    assert not out.exists()


def test_two_quoted_names_far_apart_are_not_taken_for_one_long_value(tmp_path) -> None:
    """The CLI cuts a long quoted value at 80 characters; the text between two short quoted
    names ('degrot' ... 'degroot') is no such value and is printed whole."""
    config = tmp_path / "c.yaml"
    config.write_text(
        "name: t\nsteps: 1\npopulation: {size: 6}\nagents: {policy: degrot}\n"
        "claims: [{id: c1, text: The river is poisoned.}]\n"
    )
    result = run_cli("run", str(config), "--out", str(tmp_path / "out"))
    assert result.code == 2
    assert "linear_threshold, llm, voter (did you mean 'degroot'?)" in result.err
    assert "…" not in result.err


def test_an_unknown_prompt_template_names_the_closest() -> None:
    agents = {"policy": "llm", "prompt": {"template": "decide_v3"}}
    with pytest.raises(ConfigError) as err:
        ExperimentConfig.from_dict({**BASE, "agents": agents})
    line = str(err.value)
    assert "agents.prompt.template: 'decide_v3' is not one of chat_v1" in line
    assert "more) (did you mean 'decide_v1'?)" in line or "(did you mean 'decide_v2'?)" in line
    assert len(line) <= 220, line


def test_a_long_text_is_cut_inside_its_quotes() -> None:
    from socialsim.core.validation import shown

    assert shown("short") == "'short'"
    long = shown("x" * 200)
    assert len(long) == 80 and long.startswith("'xxx") and long.endswith("x…'")
    assert shown("it's " * 20, limit=30) == '"' + "it's " * 5 + "it…" + '"'  # its own quote
    assert shown(list(range(100)), limit=20) == "[0, 1, 2, 3, 4, 5, …"
    with pytest.raises(ConfigError, match=r"network.kind: 'y{60,}…' is not one of"):
        ExperimentConfig.from_dict({"name": "t", "network": {"kind": "y" * 300}})
