"""Every library of entries (claims, propositions, authority questions, decision tasks) is read
by one parser: a list, each entry checked, two entries with one id refused."""

from __future__ import annotations

import pytest
import yaml

from socialsim.core.claims import ProbeQuestion, builtin_claims, parse_claims
from socialsim.core.errors import DataFileError
from socialsim.scenarios.manipulation.tasks import builtin_tasks, parse_tasks, task_library
from socialsim.scenarios.persuasion.authority_questions import (
    AuthorityQuestion,
    builtin_questions,
    parse_questions,
)
from socialsim.scenarios.propositions import builtin_propositions, parse_propositions


def first_entries() -> dict:
    """One valid entry of each library, as a data file would hold it."""
    return {
        "claims": (parse_claims, builtin_claims()[0].model_dump()),
        "propositions": (parse_propositions, builtin_propositions()[0].model_dump()),
        "questions": (
            parse_questions,
            next(iter(builtin_questions().values())).model_dump(),
        ),
        "decision tasks": (parse_tasks, builtin_tasks()[0].model_dump()),
    }


@pytest.mark.parametrize("what", ["claims", "propositions", "questions", "decision tasks"])
def test_two_entries_with_one_id_are_refused(what) -> None:
    parse, entry = first_entries()[what]
    other = {**entry}
    with pytest.raises(DataFileError) as err:
        parse([entry, other], "f.yaml")
    assert str(err.value) == (
        f"f.yaml: entry 1: id {entry['id']!r} is already used by entry 0; "
        f"give each of the {what} its own id"
    )


@pytest.mark.parametrize("what", ["claims", "propositions", "questions", "decision tasks"])
def test_a_bad_entry_names_the_file_the_entry_its_id_and_the_field(what) -> None:
    parse, entry = first_entries()[what]
    bad = {**entry, "surplus_field": 1}
    with pytest.raises(DataFileError) as err:
        parse([entry | {"id": "fine"}, bad], "f.yaml")
    line = str(err.value)
    assert line.startswith(f"f.yaml: entry 1 ({entry['id']}): surplus_field: unknown key")
    assert "\n" not in line


@pytest.mark.parametrize("what", ["claims", "propositions", "questions", "decision tasks"])
def test_anything_but_a_list_is_refused(what) -> None:
    parse, entry = first_entries()[what]
    with pytest.raises(DataFileError, match=f"^f.yaml: expected a list of {what}, got dict$"):
        parse(entry, "f.yaml")


def test_a_tasks_file_repeating_an_id_is_refused_not_half_read(tmp_path) -> None:
    """Before, the second task of an id silently replaced the first."""
    task = builtin_tasks()[0].model_dump() | {"id": "own_task"}
    path = tmp_path / "tasks.yaml"
    path.write_text(yaml.safe_dump([task, task | {"situation": "Another situation."}]))
    with pytest.raises(DataFileError, match="entry 1: id 'own_task' is already used by entry 0"):
        task_library(path)
    path.write_text(yaml.safe_dump([task]))
    assert task_library(path)["own_task"].situation == task["situation"]


def test_both_kinds_of_question_letter_and_render_their_options_alike() -> None:
    probe = ProbeQuestion(
        distance="direct", question="Which?", options=["x", "y", "z"], correct="A", manipulated="C"
    )
    item = AuthorityQuestion(
        id="q", question="Which?", options=["x", "y", "z"], correct="A", authority="C"
    )
    assert probe.render() == item.render() == "Which?\nA) x\nB) y\nC) z"
    assert probe.letters == item.letters == ["A", "B", "C"]
    assert (probe.option("C"), item.option("B")) == ("z", "y")
    # the mixin adds no field: fields keep their declared order
    assert list(ProbeQuestion.model_fields)[:3] == ["id", "distance", "question"]
    assert list(AuthorityQuestion.model_fields)[:3] == ["id", "domain", "question"]
