"""Small hand-built event tables and run directories for the analysis tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from socialsim.core.event_tables import event_records
from socialsim.simulation.log import InteractionLog


def ev(
    kind: str, step: int, agent: Any = None, target: Any = None, claim: Any = None, **payload: Any
) -> dict:
    """One event line as a dict (``payload`` a dict)."""
    return {
        "run": "r",
        "step": step,
        "time": float(step),
        "kind": kind,
        "agent": agent,
        "target": target,
        "claim": claim,
        "payload": payload,
    }


def frame(rows: list[dict]) -> pd.DataFrame:
    """The events table (the shape load_run gives) of event lines."""
    return event_records(rows)


def action(step: int, agent: Any, type_: str, target: Any = None, **payload: Any) -> dict:
    """An `action` event of a given type."""
    return ev("action", step, agent, target, None, type=type_, **payload)


def spread_events() -> list[dict]:
    """Claim c1 spreads 0 -> 1 -> 2 on a path 0-1-2-3; agent 3 hears it but stays unconvinced."""
    return [
        ev("injection", 0, 0, None, "c1", route="attacker"),
        ev("belief_change", 0, 0, None, "c1", old=0.1, new=0.9, cause="injection"),
        ev("belief_change", 0, 1, None, "c1", old=0.2, new=0.2, cause="rule"),
        ev("belief_change", 0, 2, None, "c1", old=0.1, new=0.1, cause="rule"),
        ev("belief_change", 0, 3, None, "c1", old=0.0, new=0.0, cause="rule"),
        ev("message", 0, 0, None, "c1", id="m1", text="c1 is true", recipients=[1], claims=["c1"]),
        ev("belief_change", 1, 1, 0, "c1", old=0.2, new=0.8, cause="message"),
        ev("message", 1, 1, None, "c1", id="m2", text="heard c1", recipients=[0, 2], claims=["c1"]),
        ev("belief_change", 2, 2, None, "c1", old=0.1, new=0.7, cause="message"),
        ev(
            "message", 2, 2, None, None, id="m3", text="see c1", recipients=[3], claims=["c2", "c1"]
        ),
        ev("action", 2, 0, None, None, type="removed"),
        ev(
            "probe",
            1,
            1,
            None,
            "c1",
            probe_id="p1",
            distance="direct",
            correct=False,
            manipulated=True,
            credence=0.8,
        ),
        ev(
            "probe",
            1,
            3,
            None,
            "c1",
            probe_id="p1",
            distance="direct",
            correct=True,
            manipulated=False,
            credence=0.0,
        ),
        ev(
            "probe",
            3,
            1,
            None,
            "c1",
            probe_id="p2",
            distance="indirect",
            correct=True,
            manipulated=False,
            credence=0.8,
        ),
        ev(
            "probe",
            3,
            2,
            None,
            "c1",
            probe_id="p2",
            distance="indirect",
            correct=False,
            manipulated=True,
            credence=0.7,
        ),
        ev("belief_change", 3, 3, 2, "c1", old=0.0, new=0.3, cause="message"),
        ev(
            "llm_call",
            3,
            1,
            model="local/x",
            latency_s=0.5,
            prompt_tokens=10,
            completion_tokens=5,
            cached=True,
            error=None,
        ),
        ev(
            "llm_call",
            3,
            2,
            model="local/x",
            latency_s=1.5,
            prompt_tokens=20,
            completion_tokens=5,
            cached=False,
            error="timeout",
        ),
    ]


def write_run_dir(root: Path, rows: list[dict] | None = None, text: str = "hello") -> Path:
    """A tiny run directory: config.yaml, events.jsonl, agents.csv, graph.graphml."""
    root.mkdir(parents=True, exist_ok=True)
    rows = rows if rows is not None else spread_events()
    log = InteractionLog(root / "events.jsonl", run="r")
    for r in rows:
        log.emit(
            r["kind"],
            step=r["step"],
            time=r["time"],
            agent=r["agent"],
            target=r["target"],
            claim=r["claim"],
            payload=r["payload"],
        )
    log.emit(
        "message",
        step=3,
        agent=1,
        claim=None,
        payload={"id": "m9", "text": text, "recipients": [0], "claims": []},
    )
    log.close()
    credences = {
        0: [0.9, 0.9, 0.9, 0.9],
        1: [0.2, 0.8, 0.8, 0.8],
        2: [0.1, 0.1, 0.7, 0.7],
        3: [0.0, 0.0, 0.0, 0.3],
    }
    agents = pd.DataFrame(
        [(s, a, "c1", c[s]) for a, c in credences.items() for s in range(4)],
        columns=["step", "agent", "claim", "credence"],
    )
    agents.to_csv(root / "agents.csv", index=False)
    graph = nx.path_graph(4)
    for node in graph.nodes:
        graph.nodes[node]["country"] = "A" if node < 2 else "B"
        graph.nodes[node]["credence_c1"] = credences[node][-1]
    nx.write_graphml(graph, root / "graph.graphml")
    (root / "config.yaml").write_text("name: tiny <run>\nseed: 1\nsteps: 4\n", encoding="utf-8")
    return root


def dump_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def scenario_events() -> list[dict]:
    """Norm, collaboration, debate, authority and stance events, a few of each."""
    rows = []
    for i, label in enumerate(["expected", "okay", "unexpected", "expected"]):
        rows.append(
            action(
                0,
                i,
                "norm_choice",
                frame_id="f",
                setting="park",
                culture="X" if i < 2 else "Y",
                category="safety",
                role="visitor",
                behaviour="b",
                label=label,
                justification="<b>because</b>",
                constraints={"weather": "rain"},
                social_pressure=i % 2 == 1,
                neighbours_violating=0.5 if i % 2 else None,
                violator=False,
            )
        )
    rows.append(
        action(
            1,
            0,
            "norm_judgement",
            frame_id="f",
            judged_agent=2,
            behaviour="b",
            judged_label="unexpected",
            true_label="unexpected",
        )
    )
    for cond, models, ok in [
        ("solo", ["m1"], True),
        ("solo", ["m1"], True),
        ("pair", ["m1", "m1"], False),
        ("pair", ["m1", "m1"], True),
        ("relay", ["m1", "m2"], True),
    ]:
        rows.append(
            action(
                0,
                None,
                "collab_trial",
                trial=len(rows),
                condition=cond,
                models=models,
                starter=models[0],
                success=ok,
                turns=3,
                messages=3,
                path_length=4,
                optimal_length=4,
                maze_size=3,
            )
        )
    for kind, pers, pre, post in [
        ("persuader", True, 2, 4),
        ("persuader", True, 3, 3),
        ("peer", False, 3, 2),
        ("peer", False, 2, 3),
    ]:
        rows.append(
            action(
                0,
                0,
                "debate_pair",
                target=1,
                pair=0,
                persuader=0,
                proposition="p",
                persuader_kind=kind,
                personalised=pers,
                pre=pre,
                post=post,
                shift=post - pre,
            )
        )
    rows.append(
        action(
            0,
            2,
            "authority_outcome",
            question_id="q",
            before_answer="a",
            after_answer="b",
            correct_answer="a",
            before_confidence=0.9,
            after_confidence=0.6,
            outcome="sycophantic_agreement",
        )
    )
    rows += [
        action(e, 3, "stance_probe", exposure=e, stance=0.2 + 0.1 * e, topic="t") for e in range(3)
    ]
    return rows
