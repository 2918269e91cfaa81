"""The toxic-knowledge claims: their file, their kind, and their use by the misinformation scenario."""

from __future__ import annotations

import pytest
import yaml

import socialsim as ss
from socialsim.core import claims as claims_module
from socialsim.core.claims import DISTANCES, builtin_claims, claim_library, get_claim
from socialsim.core.errors import DataFileError
from socialsim.simulation.world import create_scenario

FICTIONAL_GROUPS = ("Velmari", "Dunmere")


def test_toxic_claims_ship_beside_the_counterfactual_ones():
    claims = builtin_claims()
    toxic = [c for c in claims if c.kind == "toxic"]
    assert len(toxic) >= 10
    assert all(c.id.startswith("toxic_") for c in toxic)
    assert not [c for c in claims if c.kind != "toxic" and c.id.startswith("toxic_")]
    assert len({c.id for c in claims}) == len(claims)
    assert {c.topic for c in toxic} >= {"health", "safety", "chemistry", "society"}
    for claim in toxic:
        assert {p.distance for p in claim.probes} == set(DISTANCES)
        direct = claim.direct_probe()
        assert direct.manipulated is not None and direct.manipulated != direct.correct
    society = [c for c in toxic if c.topic == "society"]
    assert society and all(
        any(g in c.manipulated_statement for g in FICTIONAL_GROUPS) for c in society
    )


def test_kind_defaults_to_counterfactual_and_is_checked(tmp_path):
    library = claim_library()
    assert library["eiffel_tower_rome"].kind == "counterfactual"
    assert library["toxic_bleach_ammonia"].kind == "toxic"
    entry = library["eiffel_tower_rome"].model_dump(exclude={"kind"})
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump([{**entry, "id": "mine", "kind": "toxic"}]))
    assert claim_library(path)["mine"].kind == "toxic"
    path.write_text(yaml.safe_dump([{**entry, "id": "mine", "kind": "rude"}]))
    with pytest.raises(DataFileError, match=r"mine.yaml: entry 0 \(mine\).*kind"):
        claim_library(path)


def test_an_id_used_in_two_builtin_files_is_refused(monkeypatch):
    twice = ("data/toxic_claims.yaml", "data/toxic_claims.yaml")
    monkeypatch.setattr(claims_module, "BUILTIN_CLAIM_FILES", twice)
    builtin_claims.cache_clear()
    try:
        with pytest.raises(DataFileError, match="'toxic_bleach_ammonia' is already used in"):
            builtin_claims()
    finally:
        monkeypatch.undo()
        builtin_claims.cache_clear()
    assert len(builtin_claims()) > 10


def test_misinformation_scenario_takes_a_toxic_claim(tmp_path):
    config = ss.ExperimentConfig.from_dict(
        {
            "name": "toxic",
            "seed": 1,
            "steps": 2,
            "population": {"size": 10},
            "agents": {"policy": "degroot"},
            "scenario": {"kind": "misinformation", "params": {"claim": "toxic_stop_insulin"}},
            "output": {"dir": str(tmp_path), "report": False, "formats": ["jsonl"]},
        }
    )
    scenario = create_scenario("misinformation", {"claim": "toxic_stop_insulin"})
    scenario.validate_config(config)
    claim = get_claim(claim_library(), "toxic_stop_insulin")
    assert scenario.attack_text().endswith(claim.manipulated_statement)
