"""Checkpoints at step boundaries: what ``socialsim run --resume`` continues from.

After a completed step the runner saves ``checkpoint.npz`` in the run directory (a new file
renamed over the old one, so a kill at any moment leaves the last complete checkpoint).
It is data only: numpy arrays, read with ``allow_pickle=False``, and one JSON document
checked against a versioned schema (:class:`CheckpointHeader`); the state is written and
read by :mod:`socialsim.experiments.state_codec`, which runs no code of the file's choosing.
A checkpoint of another format or socialsim version, with unknown content, or an old
``checkpoint.pkl`` (a pickle, never read) is refused in one line and the run replayed.
It holds what changes as a run goes on: the step count and clock, the state of every
random generator, credences and their causes, the agents (memories, instructions, persona
changes), pending messages, the scenario's and the rule policies' state, the DataCollector's
rows, the model-call totals, the event counts, and how long ``events.jsonl`` was at that
moment. The credence snapshots behind the agents table (one per step) are appended to
``checkpoint.snapshots`` instead (a fixed record head, then the raw array), so that a
checkpoint costs the same at step 500 as at step 5.

What the set-up makes from the config and never changes is not saved (the config, the
personas, the model clients and prompt settings of the policies): resuming builds the model
again from ``config.yaml``, throws away the events of that set-up, puts the checkpoint's
state in place, cuts ``events.jsonl`` back to the checkpoint's length and goes on stepping.
So the header keeps the SHA-256 of ``config.yaml`` as the run wrote it (``config_sha256``),
and a resume refuses a config.yaml edited since (the state would belong to another config).

A checkpoint is written after a step when at least :data:`COST_FACTOR` times the last one's
cost has passed since it ended, so checkpoints cost at most about 1/COST_FACTOR of the run's
time. Before the first one its cost is not known: it is tried after the first step with a
budget of 1/COST_FACTOR of the time since the steps began (at least :data:`FIRST_BUDGET`
seconds), and abandoned, with nothing written, when it takes longer (the state of a million
agents can take a sixth of an LLM step to save); it is then tried again once twice that
budget fits. A run whose first checkpoint takes under a second gets it after step 1. The
steps after the last checkpoint are run again on resume, which gives the same events
(the seeds are the same and model answers come from the response cache). Event mode is not
checkpointed (the simpy clock's processes cannot be saved); such runs resume by replay
(:mod:`socialsim.experiments.resume`). A run whose scenario or policy holds something that
cannot be saved (a lambda, an open file) warns once, stops checkpointing and also resumes by
replay.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import time
import warnings
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from socialsim.core.errors import Notice
from socialsim.experiments.state_codec import Decoder, Encoder, OverBudget, StateError

if TYPE_CHECKING:
    from socialsim.simulation.model import SocialModel

CHECKPOINT = "checkpoint.npz"
SNAPSHOTS = "checkpoint.snapshots"
#: the pickled checkpoint of earlier versions: never read, only refused and removed
LEGACY = "checkpoint.pkl"
#: 3: the DataCollector's set-up row kept apart (setup_vars); 4: unknown credences;
#: 5: the digest of the run's config.yaml (config_sha256)
FORMAT = 5
#: a checkpoint waits until this many times the last one's cost has passed
COST_FACTOR = 20.0
#: seconds a checkpoint of unknown cost may always take (more only when the steps took longer)
FIRST_BUDGET = 1.0
# model attributes the set-up makes again (or that are rebuilt on use; mesa wraps `step`
# itself, and its registers of agents are filled again from `_by_id`): never saved
_REMADE = (
    "log", "cfg", "personas", "datacollector", "_clock", "_space", "step", "_user_step",
    "run_dir", "_agents", "_agents_by_type", "_all_agents",
)  # fmt: skip
# the DataCollector's rows (its reporters are functions made by the set-up)
_COLLECTED = ("model_vars", "setup_vars", "_agent_records", "_agenttype_records", "tables")
_STATE_KEY = "state.json"
# a snapshot record: magic, step, time, rows, columns, dtype; then the credences
_RECORD = struct.Struct("<8sqdqq8s")
_MAGIC = b"SSSNAP02"
_SNAPSHOT_DTYPES = ("<f8", "<f4")


class CheckpointError(Exception):
    """A checkpoint that cannot be read back (missing, torn, of another version, unknown)."""


class CheckpointHeader(BaseModel):
    """The JSON document of a checkpoint: where the run stood, and its state as a tree."""

    model_config = ConfigDict(extra="forbid", strict=True)

    format: Literal[5]
    socialsim: str
    step: int = Field(ge=0)
    run_id: str
    config_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="SHA-256 of config.yaml as the run wrote it"
    )
    events_bytes: int = Field(ge=0)
    snapshots: list[int] = Field(
        min_length=2, max_length=2, description="snapshots saved, and their file's length"
    )
    arrays: int = Field(ge=0, description="arrays a0, a1, ... beside the document")
    state: dict[str, Any]


def config_digest(text: str) -> str:
    """The SHA-256 (hex) of a run's ``config.yaml`` text, as its checkpoints keep it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _written_config(run_dir: Path) -> str:
    """The digest of the config.yaml the runner wrote into `run_dir` (of no text: none)."""
    path = run_dir / "config.yaml"
    return config_digest(path.read_text(encoding="utf-8") if path.is_file() else "")


def _version() -> str:
    from socialsim.core.version import __version__

    return __version__


def _shared(model: SocialModel) -> dict[int, str]:
    """Objects the set-up makes again, by id, with the token that stands for each."""
    tokens: dict[int, str] = {
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
                tokens.setdefault(id(obj), f"group.{g}.{attr}")
    return tokens


def _resolver(model: SocialModel, snapshots: list) -> Any:
    def resolve(token: str) -> Any:
        if token == "model":
            return model
        if token == "snapshots":
            return snapshots
        if token in ("log", "cfg", "personas", "datacollector"):
            return getattr(model, token)
        parts = token.split(".")
        if len(parts) == 3 and parts[0] == "group" and parts[1].isdigit():
            g, attr = int(parts[1]), parts[2]
            if g < len(model.groups) and attr in ("client", "policy", "llm_config", "prompt"):
                return getattr(model.groups[g], attr)
        raise StateError(f"unknown reference {token[:40]!r}")

    return resolve


def _registered_order(model: SocialModel) -> list[int]:
    """Ids of the agents mesa has registered, in registration order."""
    order = []
    for agent in model._agents:
        agent_id = getattr(agent, "id", None)
        if not isinstance(agent_id, int) or model._by_id[agent_id] is not agent:
            raise StateError(f"mesa agent {agent!r} is not one of the run's agents")
        order.append(agent_id)
    return order


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
        # the config.yaml the run started with: the one the runner has just written, or,
        # resumed, the one its first checkpoint was taken with (checked equal on resume)
        self.config_sha256 = (
            resumed["config_sha256"] if resumed is not None else _written_config(self.dir)
        )
        self.written = 0
        self.seconds = 0.0  # spent writing checkpoints
        self.bytes = 0  # size of the last one
        self._saved_snapshots, self._snapshot_bytes = (
            tuple(resumed["snapshots"]) if resumed is not None else (0, 0)
        )
        self.abandoned = 0  # checkpoints given up for taking longer than their budget
        self._cost = 0.0  # the last one's cost; before the first, twice the longest abandoned
        self._since = time.perf_counter()  # when the last one ended (or the steps began)
        if resumed is None or not self.enabled:
            self.remove()

    def after_step(self, model: SocialModel) -> None:
        """Save a checkpoint now unless the last one was too recent for its cost (the first
        one, of unknown cost, is abandoned when it overruns its budget)."""
        if not self.enabled or not model.running:
            return
        start = time.perf_counter()
        passed = start - self._since
        if passed < COST_FACTOR * self._cost:
            return
        deadline = None
        if not self.written and COST_FACTOR > 0:
            deadline = start + max(passed / COST_FACTOR, FIRST_BUDGET)
        try:
            self._write(model, deadline)
        except OverBudget:
            spent = time.perf_counter() - start
            self.abandoned += 1
            self._cost = 2 * spent
            self.seconds += spent
            return
        except StateError as exc:
            self.enabled = False
            self.remove()
            warnings.warn(
                f"checkpoints are off for this run: its state cannot be saved ({exc}); "
                "`socialsim run --resume` will replay it instead",
                Notice,
                stacklevel=2,
            )
            return
        self._since = time.perf_counter()
        self._cost = self._since - start
        self.seconds += self._cost
        self.written += 1

    def _write(self, model: SocialModel, deadline: float | None = None) -> None:
        """Write a checkpoint of `model` (OverBudget, nothing written, when encoding its
        state runs past `deadline`, a ``time.perf_counter()`` time)."""
        collector = vars(model.datacollector)
        encoder = Encoder(_shared(model), deadline)
        state = encoder.encode(
            {
                "model": {k: v for k, v in vars(model).items() if k not in _REMADE},
                "agents": _registered_order(model),
                "collected": {k: collector[k] for k in _COLLECTED if k in collector},
                "event_counts": dict(model.log.counts),
            }
        )
        self._append_snapshots(model.recorder.snapshots)
        log = model.log.path
        header = {  # the fields of CheckpointHeader
            "format": FORMAT,
            "socialsim": _version(),
            "step": model.steps,
            "run_id": model.run_id,
            "config_sha256": self.config_sha256,
            "events_bytes": log.stat().st_size if log is not None and log.is_file() else 0,
            "snapshots": [self._saved_snapshots, self._snapshot_bytes],
            "arrays": len(encoder.arrays),
            "state": state,
        }
        document = json.dumps(header, separators=(",", ":"), allow_nan=False)
        arrays = {f"a{i}": a for i, a in enumerate(encoder.arrays)}
        arrays[_STATE_KEY] = np.frombuffer(document.encode("utf-8"), dtype=np.uint8)
        path = self.dir / CHECKPOINT
        partial = path.with_name(CHECKPOINT + ".partial")
        with open(partial, "wb") as file:
            np.savez(file, **arrays)  # no object arrays: the encoder refuses them
            file.flush()
            os.fsync(file.fileno())
            self.bytes = file.tell()
        os.replace(partial, path)

    def _append_snapshots(self, snapshots: list) -> None:
        with open(self.dir / SNAPSHOTS, "ab") as file:
            file.truncate(self._snapshot_bytes)  # a record torn by a kill is not kept
            for step, at, credence in snapshots[self._saved_snapshots :]:
                array = np.ascontiguousarray(credence)
                dtype = array.dtype.str.encode("ascii")
                if array.ndim != 2 or dtype.decode() not in _SNAPSHOT_DTYPES:
                    raise StateError(f"a credence snapshot of shape {array.shape} ({dtype})")
                rows, cols = array.shape
                file.write(_RECORD.pack(_MAGIC, int(step), float(at), rows, cols, dtype))
                file.write(array.tobytes())
            file.flush()
            os.fsync(file.fileno())
            self._snapshot_bytes = file.tell()
        self._saved_snapshots = len(snapshots)

    def remove(self) -> None:
        """Delete the checkpoint files (the run finished, or checkpoints are off)."""
        for name in (CHECKPOINT, CHECKPOINT + ".partial", SNAPSHOTS, LEGACY):
            (self.dir / name).unlink(missing_ok=True)


def read_header(run_dir: Path) -> dict[str, Any]:
    """The checkpoint of `run_dir`: its header's fields, with ``arrays`` the arrays read
    (CheckpointError when there is none that reads)."""
    run_dir = Path(run_dir)
    path = run_dir / CHECKPOINT
    if not path.is_file():
        if (run_dir / LEGACY).exists():
            raise CheckpointError(
                f"{run_dir / LEGACY} is a checkpoint of an older version (a pickle, which is "
                "never read)"
            )
        raise CheckpointError(f"{run_dir} has no checkpoint")
    if not (run_dir / SNAPSHOTS).is_file():
        raise CheckpointError(f"{run_dir} has no {SNAPSHOTS}")
    try:
        with np.load(path, allow_pickle=False) as stored:
            names = set(stored.files)
            if _STATE_KEY not in names:
                raise CheckpointError(f"{path} holds no {_STATE_KEY}")
            document = stored[_STATE_KEY]
            if document.dtype != np.uint8 or document.ndim != 1:
                raise CheckpointError(f"{path}: {_STATE_KEY} is not a JSON document")
            header = CheckpointHeader.model_validate(json.loads(document.tobytes()))
            expected = {f"a{i}" for i in range(header.arrays)} | {_STATE_KEY}
            if names != expected:
                raise CheckpointError(f"{path} holds arrays its header does not name")
            arrays = [stored[f"a{i}"] for i in range(header.arrays)]
    except CheckpointError:
        raise
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "header"
        raise CheckpointError(
            f"{path} is not a checkpoint of this version ({where}: {first['msg']})"
        ) from None
    except (
        OSError, EOFError, ValueError, TypeError, KeyError, zipfile.BadZipFile, MemoryError,
        RecursionError, OverflowError,
    ) as exc:  # fmt: skip
        raise CheckpointError(
            f"{path} does not read: {str(exc)[:200] or type(exc).__name__}"
        ) from None
    if header.socialsim != _version():
        raise CheckpointError(
            f"{path} was written by socialsim {header.socialsim[:20]}, this is {_version()}"
        )
    return {**header.model_dump(exclude={"state"}), "state": header.state, "arrays": arrays}


def read_snapshots(path: Path, count: int, size: int) -> list[tuple[int, float, np.ndarray]]:
    """The first `count` credence snapshots of a ``checkpoint.snapshots`` file, `size`
    bytes long (CheckpointError when they do not read)."""
    snapshots = []
    with open(path, "rb") as file:
        if os.fstat(file.fileno()).st_size < size:
            raise CheckpointError(f"{path} is shorter than its checkpoint says")
        for _ in range(count):
            head = file.read(_RECORD.size)
            if len(head) != _RECORD.size:
                raise CheckpointError(f"{path} ends inside a record")
            magic, step, at, rows, cols, dtype = _RECORD.unpack(head)
            dtype_text = dtype.rstrip(b"\0").decode("ascii", "replace")
            if magic != _MAGIC or dtype_text not in _SNAPSHOT_DTYPES or rows < 0 or cols < 0:
                raise CheckpointError(f"{path} holds a record that is not a snapshot")
            nbytes = rows * cols * np.dtype(dtype_text).itemsize
            if file.tell() + nbytes > size:
                raise CheckpointError(f"{path} ends inside a snapshot")
            buffer = bytearray(nbytes)
            file.readinto(buffer)
            array = np.frombuffer(buffer, dtype=dtype_text).reshape(rows, cols)
            snapshots.append((step, at, array))
        if file.tell() != size:
            raise CheckpointError(f"{path} does not end where its checkpoint says")
    return snapshots


def restore(model: SocialModel, run_dir: Path, header: dict[str, Any]) -> None:
    """Put the checkpoint's state into `model`, freshly built from the run's config with no
    run directory, and point its log at the run's ``events.jsonl`` cut back to the
    checkpoint's length (later lines, of steps after the checkpoint, are dropped).

    The checkpoint is read whole first: one that does not read raises CheckpointError with
    nothing in `run_dir` changed.
    """
    from mesa import Agent

    run_dir = Path(run_dir)
    count, size = header["snapshots"]
    arrays = header["arrays"]

    def array(index: int) -> np.ndarray:
        if not 0 <= index < len(arrays):
            raise StateError(f"array {index} is not in the checkpoint")
        return arrays[index]

    try:
        snapshots = read_snapshots(run_dir / SNAPSHOTS, count, size)
        tree = Decoder(array, _resolver(model, snapshots)).decode(header["state"])
        if not isinstance(tree, dict) or set(tree) != {
            "model", "agents", "collected", "event_counts",
        }:  # fmt: skip
            raise StateError("its state is not a run's state")
        state, order = tree["model"], tree["agents"]
        if not isinstance(order, list):
            raise StateError("its agents are not a list")
        if not isinstance(state, dict) or set(state) & set(_REMADE):
            raise StateError("its model state names what the set-up makes")
        agents = state.get("_by_id")
        if not isinstance(agents, list) or not all(
            type(i) is int and 0 <= i < len(agents) and isinstance(agents[i], Agent) for i in order
        ):
            raise StateError("its agents are not the run's")
        counts = tree["event_counts"]
        if not isinstance(counts, dict) or not all(type(v) is int for v in counts.values()):
            raise StateError("its event counts are not counts")
        if not isinstance(tree["collected"], dict) or set(tree["collected"]) - set(_COLLECTED):
            raise StateError("its collected rows are not the DataCollector's")
        _check_against_the_model(model, state, snapshots, header, run_dir / "events.jsonl")
    except (
        OSError, StateError, ValueError, TypeError, RecursionError, OverflowError, MemoryError,
    ) as exc:  # fmt: skip
        raise CheckpointError(
            f"the checkpoint in {run_dir} does not read: {str(exc)[:200] or type(exc).__name__}"
        ) from None
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
    log.counts.update(counts)
    vars(model).update(state)
    vars(model.datacollector).update(tree["collected"])
    _register_agents(model, order)
    model.run_dir = run_dir


def _check_against_the_model(
    model: SocialModel,
    state: dict[str, Any],
    snapshots: list[tuple[int, float, np.ndarray]],
    header: dict[str, Any],
    events: Path,
) -> None:
    """StateError unless the state fits the model built from the config and the files it
    points into: names the model has, its step the header's, snapshots of the model's agents
    x claims, and a log length within the file that ends a line."""
    unknown = sorted(k for k in state if k.startswith("__") or k not in vars(model))
    if unknown:
        raise StateError(f"its model state names {unknown[0]!r}, which the model has not")
    steps = state.get("steps", header.get("step"))
    if type(steps) is not int or steps != header.get("step"):
        raise StateError(f"its step {steps!r} is not the header's {header.get('step')!r}")
    shape = (model.n_agents, len(model.beliefs.claims))
    bad = next((a.shape for _, _, a in snapshots if a.shape != shape), None)
    if bad is not None:
        raise StateError(f"a credence snapshot is {bad[0]} x {bad[1]}, not {shape[0]} x {shape[1]}")
    cut = header["events_bytes"]
    size = events.stat().st_size if events.is_file() else 0
    if cut > size:
        raise StateError(f"it counts {cut} bytes of events.jsonl, which holds {size}")
    if cut:
        with open(events, "rb") as file:
            file.seek(cut - 1)
            if file.read(1) != b"\n":
                raise StateError("its length of events.jsonl ends inside a line")


def _register_agents(model: SocialModel, order: list[int]) -> None:
    """Register the restored agents with mesa again, in their order; the cell space is made
    anew on first use, with each of them on its cell."""
    from mesa.agent import AgentSet

    model._agents = {}
    model._agents_by_type = {}
    model._all_agents = AgentSet([], random=model.random)
    model._space = None  # one the set-up built holds its agents, not the restored ones
    for agent_id in order:
        agent = model._by_id[agent_id]
        model.register_agent(agent)
        vars(agent)["_mesa_cell"] = None


__all__ = [
    "CHECKPOINT",
    "LEGACY",
    "SNAPSHOTS",
    "CheckpointError",
    "CheckpointHeader",
    "Checkpointer",
    "config_digest",
    "read_header",
    "read_snapshots",
    "restore",
]
