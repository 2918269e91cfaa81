"""Checkpoints at step boundaries: what ``socialsim run --resume`` continues from.

After a completed step the runner saves ``checkpoint.pkl`` in the run directory (a new file
renamed over the old one, so a kill at any moment leaves the last complete checkpoint).
It holds what changes as a run goes on: the step count and clock, the state of every
random generator, credences and their causes, the agents (memories, instructions, persona
changes), pending messages, the scenario's and the rule policies' state, the DataCollector's
rows, the model-call totals, the event counts, and how long ``events.jsonl`` was at that
moment. The credence snapshots behind the agents table (one per step) are appended to
``checkpoint.snapshots`` instead, so that a checkpoint costs the same at step 500 as at
step 5.

What the set-up makes from the config and never changes is not saved (the config, the
personas, the model clients and prompt settings of the policies): resuming builds the model
again from ``config.yaml``, throws away the events of that set-up, puts the checkpoint's
state in place, cuts ``events.jsonl`` back to the checkpoint's length and goes on stepping.

A checkpoint is written after a step when at least :data:`COST_FACTOR` times the last one's
cost has passed since it ended, and always after the first step: slow (LLM) steps each get
one, and checkpoints of fast rule steps cost at most about 1/COST_FACTOR of the run's time.
The steps after the last checkpoint are run again on resume, which gives the same events
(the seeds are the same and model answers come from the response cache). Event mode is not
checkpointed (the simpy clock's processes cannot be saved); such runs resume by replay
(:mod:`socialsim.simulation.resume`). A run whose scenario or policy holds something that
cannot be saved (a lambda, an open file) warns once, stops checkpointing and also resumes by
replay.
"""

from __future__ import annotations

import io
import os
import pickle
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from socialsim.simulation.model import SocialModel

CHECKPOINT = "checkpoint.pkl"
SNAPSHOTS = "checkpoint.snapshots"
FORMAT = 1
#: a checkpoint waits until this many times the last one's cost has passed
COST_FACTOR = 20.0
# model attributes the set-up makes again (or that are rebuilt on use; mesa wraps `step`
# itself): never saved
_REMADE = ("log", "cfg", "personas", "datacollector", "_clock", "_network", "step", "_user_step")
# the DataCollector's rows (its reporters are functions made by the set-up)
_COLLECTED = ("model_vars", "_agent_records", "_agenttype_records", "tables")


class CheckpointError(Exception):
    """A checkpoint that cannot be read back (missing, torn, of another format)."""


def _shared(model: SocialModel) -> dict[int, Any]:
    """Objects the set-up makes again, by id, with the token that stands for each."""
    tokens: dict[int, Any] = {
        id(model): "model",
        id(model.log): "log",
        id(model.cfg): "cfg",
        id(model.personas): "personas",
        id(model.datacollector): "datacollector",
        id(model.recorder.snapshots): "snapshots",
    }
    for g, group in enumerate(model.groups):
        for attr in ("client", "policy", "llm_config", "prompt"):
            obj = getattr(group, attr)
            if obj is not None:
                tokens.setdefault(id(obj), ("group", g, attr))
    return tokens


class _Saver(pickle.Pickler):
    def __init__(self, file: io.BytesIO, tokens: dict[int, Any]) -> None:
        super().__init__(file, protocol=5)
        self.tokens = tokens

    def persistent_id(self, obj: Any) -> Any:
        return self.tokens.get(id(obj))


# What a checkpoint may name when it is read back: classes of these packages (and of the
# modules that registered plugins), a few plain builtins, and numpy's own rebuilders. A
# checkpoint is a pickle; this keeps one written by someone else from calling anything else.
_PACKAGES = ("socialsim.", "mesa.", "networkx.", "numpy.", "pydantic.", "pydantic_core.")
_MODULES = {"numpy", "collections", "random", "pathlib", "datetime", "enum", "copyreg"}
_BUILTINS = {
    "list", "dict", "set", "frozenset", "tuple", "bytearray", "bytes", "str", "int",
    "float", "complex", "bool", "slice", "range", "object",
}  # fmt: skip
_FUNCTIONS = {
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.random._pickle", "__bit_generator_ctor"),
    ("numpy.random._pickle", "__generator_ctor"),
    ("numpy.random._pickle", "__randomstate_ctor"),
    ("numpy.random.bit_generator", "__pyx_unpickle_SeedSequence"),
    ("copyreg", "_reconstructor"),
}


def _plugin_modules() -> set[str]:
    """Modules that registered a scenario, policy, network kind or measure."""
    from socialsim.registry import MEASURES, NETWORKS, POLICIES, SCENARIOS

    found = set()
    for registry in (POLICIES, NETWORKS, SCENARIOS, MEASURES):
        for entry in registry.entries():
            found.add(getattr(entry.obj, "__module__", None) or entry.module)
    return found


class _Loader(pickle.Unpickler):
    def __init__(self, file: Any, model: SocialModel | None, snapshots: list) -> None:
        super().__init__(file)
        self.model = model
        self.snapshots = snapshots
        self._plugins: set[str] | None = None

    def find_class(self, module: str, name: str) -> Any:
        if module == "builtins":
            allowed = name in _BUILTINS
        elif (module, name) in _FUNCTIONS:
            allowed = True
        else:
            if self._plugins is None:
                self._plugins = _plugin_modules()
            known = module in _MODULES or module in self._plugins
            allowed = (known or module.startswith(_PACKAGES)) and "." not in name
        found = super().find_class(module, name) if allowed else None
        if found is None or (not isinstance(found, type) and (module, name) not in _FUNCTIONS):
            raise pickle.UnpicklingError(f"a checkpoint may not name {module}.{name}")
        return found

    def persistent_load(self, token: Any) -> Any:
        model = self.model
        if model is None:
            raise pickle.UnpicklingError("a checkpoint header holds no references")
        if isinstance(token, tuple) and token[0] == "group":
            return getattr(model.groups[token[1]], token[2])
        if token == "model":
            return model
        if token == "snapshots":
            return self.snapshots
        if token in ("log", "cfg", "personas", "datacollector"):
            return getattr(model, token)
        raise pickle.UnpicklingError(f"unknown reference {token!r} in a checkpoint")


class Checkpointer:
    """Writes a run's checkpoints after its steps (see the module docstring for when)."""

    def __init__(
        self, model: SocialModel, run_dir: Path, resumed: dict[str, Any] | None = None
    ) -> None:
        """Start writing checkpoints for `model`; `resumed` is the header of the checkpoint
        the model was restored from (its files are kept and added to), else any old
        checkpoint files in `run_dir` are removed."""
        self.model = model
        self.dir = Path(run_dir)
        self.enabled = model.cfg.mode == "step" and model.cfg.output.checkpoint
        self.written = 0
        self.seconds = 0.0  # spent writing checkpoints
        self.bytes = 0  # size of the last one
        self._saved_snapshots, self._snapshot_bytes = (
            resumed["snapshots"] if resumed is not None else (0, 0)
        )
        self._last_cost = 0.0
        self._last_end = 0.0
        if resumed is None or not self.enabled:
            self.remove()

    def after_step(self, model: SocialModel) -> None:
        """Save a checkpoint now unless the last one was too recent for its cost."""
        if not self.enabled or not model.running:
            return
        if self.written and time.monotonic() - self._last_end < COST_FACTOR * self._last_cost:
            return
        start = time.perf_counter()
        try:
            self._write(model)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            self.enabled = False
            self.remove()
            warnings.warn(
                f"checkpoints are off for this run: its state cannot be saved ({exc}); "
                "`socialsim run --resume` will replay it instead",
                RuntimeWarning,
                stacklevel=2,
            )
            return
        self._last_cost = time.perf_counter() - start
        self._last_end = time.monotonic()
        self.seconds += self._last_cost
        self.written += 1

    def _write(self, model: SocialModel) -> None:
        snapshots = model.recorder.snapshots
        with open(self.dir / SNAPSHOTS, "ab") as file:
            for snapshot in snapshots[self._saved_snapshots :]:
                pickle.dump(snapshot, file, protocol=5)
            file.flush()
            os.fsync(file.fileno())
            self._snapshot_bytes = file.tell()
        self._saved_snapshots = len(snapshots)
        buffer = io.BytesIO()
        collector = vars(model.datacollector)
        _Saver(buffer, _shared(model)).dump(
            {
                "model": {k: v for k, v in vars(model).items() if k not in _REMADE},
                "collected": {k: collector[k] for k in _COLLECTED if k in collector},
                "event_counts": dict(model.log.counts),
            }
        )
        log = model.log.path
        header = {
            "format": FORMAT,
            "step": model.steps,
            "run_id": model.run_id,
            "events_bytes": log.stat().st_size if log is not None and log.is_file() else 0,
            "snapshots": (self._saved_snapshots, self._snapshot_bytes),
            "state": buffer.getvalue(),
        }
        path = self.dir / CHECKPOINT
        partial = path.with_name(CHECKPOINT + ".partial")
        with open(partial, "wb") as file:
            pickle.dump(header, file, protocol=5)
            file.flush()
            os.fsync(file.fileno())
            self.bytes = file.tell()
        os.replace(partial, path)

    def remove(self) -> None:
        """Delete the checkpoint files (the run finished, or checkpoints are off)."""
        for name in (CHECKPOINT, CHECKPOINT + ".partial", SNAPSHOTS):
            (self.dir / name).unlink(missing_ok=True)


def read_header(run_dir: Path) -> dict[str, Any]:
    """The checkpoint of `run_dir` (CheckpointError when there is none that reads)."""
    path = Path(run_dir) / CHECKPOINT
    if not path.is_file() or not (Path(run_dir) / SNAPSHOTS).is_file():
        raise CheckpointError(f"{run_dir} has no checkpoint")
    try:
        with open(path, "rb") as file:
            header = _Loader(file, None, []).load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path} does not read: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a checkpoint of this version")
    return header


def restore(model: SocialModel, run_dir: Path, header: dict[str, Any]) -> None:
    """Put the checkpoint's state into `model`, freshly built from the run's config with no
    run directory, and point its log at the run's ``events.jsonl`` cut back to the
    checkpoint's length (later lines, of steps after the checkpoint, are dropped).

    The checkpoint is read whole first: one that does not read raises CheckpointError with
    nothing in `run_dir` changed.
    """
    run_dir = Path(run_dir)
    count, size = header["snapshots"]
    try:
        snapshots: list = []
        with open(run_dir / SNAPSHOTS, "rb") as file:
            for _ in range(count):
                snapshots.append(_Loader(file, None, []).load())
        state = _Loader(io.BytesIO(header["state"]), model, snapshots).load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError) as exc:
        raise CheckpointError(f"the checkpoint in {run_dir} does not read: {exc}") from None
    with open(run_dir / SNAPSHOTS, "r+b") as file:
        file.truncate(size)
    events = run_dir / "events.jsonl"
    with open(events, "ab") as file:
        file.truncate(header["events_bytes"])
    # the set-up's events are already in the file: the log (which the restored state
    # refers to) now appends to it instead
    log = model.log
    log.close()
    log.__init__(events, header["run_id"], durable=model.cfg.output.durable)
    log.counts.update(state["event_counts"])
    vars(model).update(state["model"])
    vars(model.datacollector).update(state["collected"])
    model.run_dir = run_dir


__all__ = ["CHECKPOINT", "SNAPSHOTS", "Checkpointer", "CheckpointError", "read_header", "restore"]
