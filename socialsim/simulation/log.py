"""InteractionLog: the append-only JSONL event log of a run, flushed once per step.

Every event is one JSON object per line with the keys
``run, step, time, kind, agent, target, claim, payload``; ``kind`` is one of
:data:`EVENT_KINDS`. Lines are written in the order events happen and the file is only
ever appended to, so a run killed mid-way keeps every step it completed: each flush hands
the lines to the operating system. With ``durable=True`` every flush also fsyncs, so the
steps survive a machine crash too; otherwise the file is fsynced when it is closed.

The log writes through a sink: :class:`FileSink` (``events.jsonl`` of a run directory) or
:class:`MemorySink` (a run kept in memory: the same lines, held as a list). Every line is
redacted (:func:`socialsim.llm.redact.redact_json`: API keys become ``[redacted]``) before it is
buffered, so no table, summary or report read from the log can hold a key.
"""

from __future__ import annotations

import json
import math
import os
from json.encoder import c_make_encoder, encode_basestring
from pathlib import Path
from typing import Any

import numpy as np

from socialsim.core.errors import ConfigError
from socialsim.core.event_tables import flat_events as flatten_events  # noqa: F401 - one reader
from socialsim.core.event_tables import read_event_log as read_events  # noqa: F401 - one reader
from socialsim.core.events import EVENT_FIELDS, EVENT_KINDS
from socialsim.llm.redact import redact_json

EVENT_COLUMNS = list(EVENT_FIELDS)


def new_log_path(run_dir: str | os.PathLike) -> Path:
    """``run_dir/events.jsonl`` for a new run: the directory made when missing; one whose
    log already holds events is refused (a second run would append to the first's)."""
    path = Path(run_dir)
    events = path / "events.jsonl"
    if events.is_file() and events.stat().st_size > 0:
        raise ConfigError(
            f"run_dir {str(path)!r} already holds a run (events.jsonl); give a new directory "
            "or remove it"
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create run_dir {str(path)!r} ({exc.strerror or exc}); give a writable "
            "directory"
        ) from None
    return events


def _lock(fd: int) -> bool:
    """Take an exclusive lock on an open file (POSIX ``flock``); False when another open file
    holds it. Where ``flock`` does not exist every lock is granted."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:  # a file system without locks
        return True
    return True


#: the logs this process has open (by real path), and how many sinks each
_OURS: dict[str, int] = {}


def _key(path: Path) -> str:
    return os.path.realpath(path)


def being_written(path: str | Path) -> bool:
    """True when another process's run is writing the log at `path` now (it holds the lock);
    a log this process has open is its own (a command's own half-made run)."""
    if _key(Path(path)) in _OURS:
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        return not _lock(fd)
    finally:
        os.close(fd)  # closing releases a lock taken here


class FileSink:
    """Lines appended to a JSONL file; `durable` fsyncs at every flush, else once at close."""

    def __init__(self, path: str | Path, durable: bool = False) -> None:
        self.path = Path(path)
        self.durable = durable
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        self._key = _key(self.path)
        # one writer at a time: the lock is held until closed (another sink of this process
        # on the same file, a run stopped by an exception and resumed, takes none)
        if self._key not in _OURS and not _lock(self._file.fileno()):
            self._file.close()
            raise ConfigError(
                f"{str(self.path)!r} is being written by another run; wait for it to end or "
                "choose another directory"
            )
        _OURS[self._key] = _OURS.get(self._key, 0) + 1

    @property
    def closed(self) -> bool:
        """True once the file is closed."""
        return self._file.closed

    def write(self, lines: list[str]) -> None:
        """Hand `lines` to the operating system (fsynced too when durable)."""
        if lines:
            self._file.write("\n".join(lines) + "\n")
        self._file.flush()
        if self.durable:
            os.fsync(self._file.fileno())

    def close(self) -> None:
        """Fsync (when not already durable) and close the file."""
        if not self._file.closed:
            if not self.durable:
                os.fsync(self._file.fileno())
            self._file.close()
            left = _OURS.pop(self._key, 1) - 1
            if left > 0:
                _OURS[self._key] = left


class MemorySink:
    """Lines kept in memory, in order: the event log of a run without a run directory."""

    path = None

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.closed = False

    def write(self, lines: list[str]) -> None:
        """Keep `lines`."""
        self.lines.extend(lines)

    def close(self) -> None:
        """Nothing to release; the lines stay readable."""
        self.closed = True

    def text(self) -> str:
        """Every line kept, as the text ``events.jsonl`` would hold."""
        return "".join(line + "\n" for line in self.lines)


class InteractionLog:
    """Append-only event log; `flush()` hands everything so far to its sink.

    ``InteractionLog(path, run)`` writes a JSONL file; ``InteractionLog(None, run)`` keeps
    the lines in a :class:`MemorySink` (``log.sink.lines``).
    """

    def __init__(
        self,
        path: str | Path | None,
        run: str,
        durable: bool = False,
        sink: FileSink | MemorySink | None = None,
    ) -> None:
        if sink is None:
            sink = MemorySink() if path is None else FileSink(path, durable)
        self.sink = sink
        self.path = sink.path
        self.run = run
        self.durable = durable
        self._buffer: list[str] = []
        self._flushed = 0  # lines flushed so far
        self._heads: dict[tuple[str, Any, Any], str] = {}
        self.counts: dict[str, int] = dict.fromkeys(EVENT_KINDS, 0)

    @property
    def closed(self) -> bool:
        """True once the log is closed."""
        return self.sink.closed

    def emit(
        self,
        kind: str,
        *,
        step: int,
        time: float = 0.0,
        agent: int | None = None,
        target: int | None = None,
        claim: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """Record one event (buffered until the next flush)."""
        if kind not in self.counts:
            raise ValueError(f"unknown event kind {kind!r}; expected one of {EVENT_KINDS}")
        self.counts[kind] += 1
        head = self._heads.get((kind, step, time))
        if head is None:  # the line's start, the same for every event of a kind in a step
            if len(self._heads) > 64:
                self._heads.clear()
            start = {"run": self.run, "step": step, "time": round(float(time), 6), "kind": kind}
            head = self._heads[(kind, step, time)] = _encode(start)[:-1] + ', "agent": '
        self._buffer.append(
            redact_json(
                f'{head}{_field(agent)}, "target": {_field(target)}, "claim": '
                f'{_field(claim)}, "payload": {_encode(payload) if payload else "{}"}}}'
            )
        )

    def emit_many(
        self,
        kind: str,
        *,
        step: int,
        time: float = 0.0,
        agent: Any = None,
        target: Any = None,
        claim: Any = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """Record many events of one kind at once, written exactly as :meth:`emit` writes them.

        `agent`, `target`, `claim` and each payload value are a sequence (one entry per
        event: a list, None allowed, or a numpy array, masked entries written as null) or a
        single value shared by every event. ``emit_many("belief_change", step=3, agent=ids, claim="c1",
        payload={"old": old, "new": new, "cause": "rule"})``.
        """
        if kind not in self.counts:
            raise ValueError(f"unknown event kind {kind!r}; expected one of {EVENT_KINDS}")
        fields = {"agent": agent, "target": target, "claim": claim}
        payload = payload or {}
        columns = [v for v in (*fields.values(), *payload.values()) if _is_column(v)]
        sizes = {len(v) for v in columns}
        if len(sizes) > 1:
            raise ValueError(f"emit_many: columns of different lengths {sorted(sizes)}")
        count = sizes.pop() if sizes else 1
        if count == 0:
            return
        head = {"run": self.run, "step": step, "time": round(float(time), 6), "kind": kind}
        pieces = [", ".join(f"{_encode(k)}: {_encode(v)}" for k, v in head.items())]
        values: list[list[str]] = []
        for name, value in [*fields.items(), ("payload", None), *payload.items()]:
            prefix = ', "payload": {' if name == "payload" else ""
            if name == "payload":
                pieces[-1] += prefix.rstrip()
                continue
            sep = "" if pieces[-1].endswith("{") else ", "
            pieces[-1] += f"{sep}{_encode(name)}: "
            if _is_column(value):
                values.append(_encode_column(value))
                pieces.append("")
            else:
                pieces[-1] += _encode(value)
        pieces[-1] += "}"
        template = "{" + "%s".join(redact_json(p).replace("%", "%%") for p in pieces) + "}"
        self.counts[kind] += count
        if values:
            self._buffer.extend(template % row for row in zip(*values, strict=True))
        else:
            self._buffer.extend([template % ()] * count)

    def mark(self) -> int:
        """A place in the log (the lines flushed and buffered so far), for :meth:`take`."""
        return self._flushed + len(self._buffer)

    def take(self, since: int) -> list[str]:
        """Remove and return the lines recorded since `since` (a :meth:`mark`), to be put
        back later with :meth:`extend`.

        The step loop applies decisions between its model calls, yet logs the step's calls
        first: it takes the decisions' lines out as they are applied and extends the log with
        them after the calls. Lines already flushed stay where they are.
        """
        keep = max(0, since - self._flushed)
        lines = self._buffer[keep:]
        del self._buffer[keep:]
        return lines

    def extend(self, lines: list[str]) -> None:
        """Append lines removed by :meth:`take` (or made by another log), in their order."""
        self._buffer.extend(lines)

    def flush(self) -> None:
        """Write buffered events: a killed process loses nothing emitted so far.

        `durable` logs also fsync, so a machine crash loses nothing either.
        """
        lines, self._buffer = self._buffer, []
        self._flushed += len(lines)
        self.sink.write(lines)

    def close(self) -> None:
        """Flush and close the sink."""
        if not self.sink.closed:
            self.flush()
            self.sink.close()

    def release(self) -> None:
        """Close the sink without writing the lines held since the last flush, as a killed
        process leaves it: a run stopped by an exception frees its file (and its lock) for a
        resume in the same process."""
        if not self.sink.closed:
            self.sink.close()


def _is_column(value: Any) -> bool:
    return isinstance(value, list | tuple | np.ndarray)


def _encode_column(values: Any) -> list[str]:
    """Each value as JSON text (what ``json.dumps`` writes for it); masked entries are null."""
    if isinstance(values, np.ma.MaskedArray):
        out = _encode_column(values.filled(0) if values.dtype.kind in "iuf" else values.data)
        for i in np.flatnonzero(np.ma.getmaskarray(values)).tolist():
            out[i] = "null"
        return out
    if isinstance(values, np.ndarray):
        if values.dtype.kind in "iu":
            return list(map(str, values.tolist()))
        if values.dtype.kind == "f" and np.isfinite(values).all():
            return list(map(float.__repr__, values.astype(np.float64).tolist()))
        values = values.tolist()
    text: dict[str, str] = {}  # repeated strings (claim ids, causes) are encoded once

    def one(value: Any) -> str:
        kind = type(value)
        if kind is int:
            return str(value)
        if value is None:
            return "null"
        if kind is float and math.isfinite(value):
            return float.__repr__(value)
        if kind is str:
            if value not in text:
                text[value] = redact_json(_encode(value))
            return text[value]
        return redact_json(_encode(value))

    return list(map(one, values))


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=_json_default)
# The C encoder behind _ENCODER, made once (JSONEncoder.encode makes one per call).
_C_ENCODER = (
    c_make_encoder(None, _json_default, encode_basestring, None, ": ", ", ", False, False, True)
    if c_make_encoder is not None
    else None
)


def _encode(value: Any) -> str:
    """`value` as JSON text, exactly as ``_ENCODER.encode`` writes it."""
    if _C_ENCODER is None or isinstance(value, str):
        return _ENCODER.encode(value)
    return "".join(_C_ENCODER(value, 0))


def _field(value: Any) -> str:
    """An event's agent, target or claim as JSON text (ints and None without the encoder)."""
    if value is None:
        return "null"
    if type(value) is int:
        return int.__repr__(value)
    return _encode(value)
