"""``socialsim run --resume RUN_DIR``: finish a run (or an arms directory) that was killed.

A run that saved a checkpoint (:mod:`socialsim.experiments.checkpoint`, after its steps by
default) goes on from it: the model is built again from ``config.yaml``, the checkpoint's
state put in place, the event log cut back to where the checkpoint was taken, and the
remaining steps run in the same directory. A ``config.yaml`` edited since the run started
is refused (the checkpoint keeps its digest): the state belongs to the config it was made by.

Without a checkpoint (event mode, ``output.checkpoint: false``, a state that could not be
saved, or a kill before the first step ended) the run is replayed: it is deterministic in
its config, its seed and the response cache, so the completed steps are computed again
(rule updates in milliseconds; model answers from the response cache, where every answer is
stored as it arrives, so none is paid for twice). The replayed log is checked against what
the killed run had written; the old log is kept as ``events.interrupted.jsonl`` if they
differ (the code, the config or the cache changed).

An arms directory resumes every run that has no summary yet and keeps the finished ones.

A run directory may come from someone else: its ``plugins:`` (Python code) are imported only
when the caller passes ``plugins=True`` (``--plugins``), and its checkpoint is data that
runs nothing (:mod:`socialsim.experiments.checkpoint`). A directory killed during the
set-up (the set-up's partial files, no ``config.yaml`` yet) has nothing to resume: the
config is run again into it.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from socialsim.core.errors import ConfigError, Notice
from socialsim.core.registry import POLICIES, trust_plugins
from socialsim.experiments.checkpoint import (
    CHECKPOINT,
    LEGACY,
    CheckpointError,
    config_digest,
    read_header,
    restore,
)
from socialsim.experiments.plan import RunPlan
from socialsim.experiments.runner import SET_UP_FILES, Run, finish_run, run_plan, simulate_into
from socialsim.simulation.config import ExperimentConfig

INTERRUPTED = "events.interrupted.jsonl"
#: outputs of a run that stopped on an error, written again by the resumed run
_PARTIAL = (
    "agents.parquet", "agents.csv", "personas.parquet", "personas.csv", "steps.csv",
    "events.parquet", "events.csv", "edges.parquet", "graph.graphml",
)  # fmt: skip


def resume(
    run_dir: str | os.PathLike,
    on_step: Callable[[Any], None] | None = None,
    report: bool | None = None,
    clients: dict | None = None,
    plugins: bool = False,
):
    """Finish the killed run in `run_dir` (a :class:`Run`), or every unfinished run of an
    arms directory (its :class:`~socialsim.experiments.arms.Arms`); `plugins` imports the
    ``plugins:`` its config names (otherwise a config naming any is refused)."""
    from socialsim.experiments.arms import is_arms_dir

    root = Path(run_dir)
    check_resumable(root)
    if is_arms_dir(root):
        return resume_arms(root, on_step=on_step, report=report, clients=clients, plugins=plugins)
    return resume_run(root, on_step=on_step, report=report, clients=clients, plugins=plugins)


def finished(run_dir: Path) -> bool:
    """A run that ran to its end: it has a summary.json that does not say it stopped inside a
    step (``socialsim analyze`` of a stopped run writes one that does; an unreadable one
    counts as finished, so nothing is run over it)."""
    path = run_dir / "summary.json"
    if not path.is_file():
        return False
    try:
        facts = json.loads(path.read_text(encoding="utf-8"))["run"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return True
    return not (isinstance(facts, dict) and facts.get("stopped_in_step") is not None)


def check_resumable(root: Path) -> None:
    """ConfigError (one line) unless `root` is a run or arms directory with something to
    resume: not a directory, empty, killed during its set-up, not a run, or finished."""
    from socialsim.experiments.arms import is_arms_dir

    if not root.is_dir():
        raise ConfigError(f"--resume {str(root)!r} is not a directory; give a run directory")
    names = {p.name for p in root.iterdir()}
    if not names:
        raise ConfigError(
            f"--resume {str(root)!r} is empty: nothing ran there; run the config "
            "(socialsim run CONFIG --out DIR)"
        )
    if "config.yaml" not in names:
        if names <= set(SET_UP_FILES):
            raise ConfigError(
                f"--resume {str(root)!r}: the run was stopped during its set-up, before any "
                "step ran; run the config again with --out pointing there"
            )
        raise ConfigError(
            f"--resume {str(root)!r} is not a run directory (no config.yaml); give the folder "
            "a killed `socialsim run` was writing"
        )
    if finished(root) and not is_arms_dir(root):
        raise ConfigError(_FINISHED.format(root))


#: a finished run: nothing to resume, though a report cut short is written again by report
_FINISHED = (
    "{} is a finished run (it has summary.json); nothing to resume (if its report.html is "
    "missing, `socialsim report` writes it)"
)


def resumable_config(run_dir: Path, replay: bool = True, plugins: bool = False) -> ExperimentConfig:
    """The run's own config.yaml, checked for what a resume (a `replay`) needs; its
    ``plugins:`` are imported only with `plugins` (else a config naming any is refused)."""
    text = (run_dir / "config.yaml").read_text(encoding="utf-8")
    if "given from Python" in text.split("\n", 2)[0]:
        raise ConfigError(
            f"{run_dir}: its network or personas were given from Python; resume it from "
            "Python with ss.run(..., graph=..., personas=...) into a new directory"
        )
    trust_plugins(run_dir, trusted=plugins, needed=True, command="--resume")
    cfg = ExperimentConfig.from_yaml(run_dir / "config.yaml", plugins=plugins)
    cfg._base_dir = None  # plugins are stored as absolute paths
    llm = [(cfg.agents.policy, cfg.agents.llm)] + [
        (m.policy, m.llm or cfg.agents.llm) for m in cfg.agents.mix
    ]
    for policy, settings in llm:
        if replay and POLICIES.get(policy).sort == "deciding" and not settings.cache:
            raise ConfigError(
                f"{run_dir}: resuming replays the completed steps from the response cache, "
                "and this run has agents.llm.cache: false; run it again instead"
            )
    return cfg


def resume_run(
    run_dir: Path,
    *,
    on_step: Callable[[Any], None] | None = None,
    report: bool | None = None,
    clients: dict | None = None,
    in_arms: bool = False,
    plugins: bool = False,
) -> Run:
    """Finish the killed run in `run_dir` there: from its checkpoint, else by replaying it."""
    if finished(run_dir):
        raise ConfigError(_FINISHED.format(run_dir))
    cfg = resumable_config(run_dir, replay=False, plugins=plugins)
    plan = RunPlan(
        cfg, out=run_dir, report=report, on_step=on_step, clients=clients, in_arms=in_arms
    )
    header = None
    try:
        header = read_header(run_dir)
    except CheckpointError as exc:
        if any((run_dir / name).exists() for name in (CHECKPOINT, LEGACY)):
            warnings.warn(f"{exc}; replaying the run instead", Notice, stacklevel=2)
    if header is not None:
        check_config_unchanged(run_dir, header)
        try:
            return from_checkpoint(plan, run_dir, header)
        except CheckpointError as exc:
            warnings.warn(f"{exc}; replaying the run instead", Notice, stacklevel=2)
    cfg = resumable_config(run_dir, plugins=plugins)
    log = run_dir / "events.jsonl"
    old = log.read_bytes() if log.is_file() else b""
    old = old[: old.rfind(b"\n") + 1]  # a line cut by the kill is not part of the log
    if old:
        (run_dir / INTERRUPTED).write_bytes(old)
    for name in ("events.jsonl", *_PARTIAL):
        (run_dir / name).unlink(missing_ok=True)
    run = simulate_into(replace(plan, cfg=cfg), run_dir)
    replayed = _comparable(log.read_bytes())
    kept = _comparable(old)
    matched = replayed[: len(kept)] == kept
    if matched:
        (run_dir / INTERRUPTED).unlink(missing_ok=True)
    run.summary["run"]["resumed"] = {
        "replayed_events": len(kept),
        "matched": matched,
        **({} if matched else {"interrupted_log": INTERRUPTED}),
    }
    from socialsim.analysis.summarize import write_summary

    write_summary(run_dir, run.summary)
    return run


def check_config_unchanged(run_dir: Path, header: dict[str, Any]) -> None:
    """ConfigError (one line) when the run's config.yaml is not the one its checkpoint was
    taken with (edited after the run started); nothing in `run_dir` is changed."""
    path = run_dir / "config.yaml"
    if config_digest(path.read_text(encoding="utf-8")) != header["config_sha256"]:
        raise ConfigError(
            f"{path} changed since the run started (its checkpoint was taken with another "
            "config); restore it to resume, or run the edited config into a new directory "
            "(socialsim run CONFIG --out NEW_DIR)"
        )


def from_checkpoint(plan: RunPlan, run_dir: Path, header: dict[str, Any]) -> Run:
    """Restore the run in `run_dir` from its checkpoint and run its remaining steps."""
    from socialsim.simulation.model import SocialModel

    for name in _PARTIAL:
        (run_dir / name).unlink(missing_ok=True)
    model = SocialModel(plan.cfg, None, clients=plan.clients)
    try:
        restore(model, run_dir, header)
    except CheckpointError:
        model.close()
        raise
    resumed = {"from_checkpoint_at_step": header["step"]}
    return finish_run(model, run_dir, plan, resumed, header)


def _comparable(log: bytes) -> list[str]:
    """The log's events minus ``llm_call`` records (cached on replay, so their latency and
    cost differ), as canonical JSON lines."""
    out = []
    for line in log.splitlines():
        if not line.strip():
            continue
        event = json.loads(line)
        if event.get("kind") != "llm_call":
            out.append(json.dumps(event, sort_keys=True))
    return out


def resume_arms(
    root: Path,
    on_step: Callable[[Any], None] | None = None,
    report: bool | None = None,
    clients: dict | None = None,
    plugins: bool = False,
):
    """Finish every run of an arms directory that has no summary; keep the finished ones."""
    from socialsim.core.rundata import load_run
    from socialsim.experiments.arms import Arms, summarize_arms

    cfg = resumable_config(root, plugins=plugins)
    plan = RunPlan(cfg, out=root, report=report, on_step=on_step, clients=clients)
    names = plan.arm_names
    arms = Arms(dir=root, cfg=cfg, runs={a: [] for a in names})
    for seed in plan.seeds:
        for arm in names:
            run_dir = root / arm / f"s{seed}"
            one = plan.arm(seed, arm, run_dir)
            if finished(run_dir):
                data = load_run(run_dir)
                result = Run(data, one.cfg, data.summary)
            elif (run_dir / "config.yaml").is_file():
                result = resume_run(
                    run_dir,
                    on_step=on_step,
                    report=report,
                    clients=clients,
                    in_arms=True,
                    plugins=plugins,
                )
            else:
                result = run_plan(one)
            arms.runs[arm].append(result)
    summarize_arms(arms)
    if plan.report if plan.report is not None else cfg.output.report:
        from socialsim.analysis.report import write_report

        write_report(root)
    return arms
