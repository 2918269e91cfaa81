"""SQLite response cache: identical requests replay their answer without a model call.

The key is the sha256 of the canonical JSON of (model, messages, temperature, max_tokens,
seed, response schema, extra params); the value is the answer text and its token counts,
and its token log-probabilities where the request asked for them and the model gave them.
The file runs in WAL mode with a busy timeout, so several processes (sweep workers) can
read and write it at once. The client stores each answer as it arrives, in its own
transaction: once committed to the WAL it survives the process being killed (a machine
crash may lose the last few; ``synchronous=NORMAL``). Answers are stored (usable or not),
never transport errors.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from socialsim.core.errors import LLMSetupError
from socialsim.llm.cache_path import cache_path_problem
from socialsim.llm.types import Completion, Messages

DEFAULT_CACHE_PATH = ".socialsim_cache/responses.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL
)
"""
# Token log-probabilities of the answers that asked for them, in a table of their own so
# that cache files written before it keep working (it is made when a file is opened).
_LOGPROBS = """
CREATE TABLE IF NOT EXISTS logprobs (
    key TEXT PRIMARY KEY,
    tokens TEXT NOT NULL
)
"""
_SELECT = (
    "SELECT r.key, r.text, r.prompt_tokens, r.completion_tokens, l.tokens FROM responses r "
    "LEFT JOIN logprobs l ON l.key = r.key"
)
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=repr)
_BATCH = 500  # keys per SELECT ... IN (...) (SQLite allows 32766 parameters)


def cache_key(
    model: str,
    messages: Messages,
    temperature: float,
    max_tokens: int,
    seed: int | None,
    schema: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """The cache key of a request: sha256 hex of its canonical JSON."""
    payload = [model, messages, temperature, max_tokens, seed, schema, extra or None]
    return hashlib.sha256(_ENCODER.encode(payload).encode()).hexdigest()


class ResponseCache:
    """A response cache in one SQLite file; safe across threads (serialized) and processes (WAL)."""

    def __init__(
        self, path: str | Path = DEFAULT_CACHE_PATH, busy_timeout_ms: int = 60_000
    ) -> None:
        self.path = Path(path)
        problem = cache_path_problem(self.path)
        if problem:
            raise LLMSetupError(f"response cache {problem}")
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                str(self.path),
                timeout=busy_timeout_ms / 1000,
                check_same_thread=False,
                isolation_level=None,
            )
        except (OSError, sqlite3.Error) as exc:
            raise LLMSetupError(
                f"response cache {str(self.path)[:80]!r} cannot be opened ({exc}); give another "
                "cache_path (or set cache: false)"
            ) from None
        try:
            self._set_up(busy_timeout_ms)
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            what = "is not an SQLite file" if "not a database" in str(exc) else f"failed ({exc})"
            raise LLMSetupError(
                f"response cache {str(self.path)[:80]!r} {what}; give another cache_path (or set "
                "cache: false); the file is left as it is"
            ) from None

    def _set_up(self, busy_timeout_ms: int) -> None:
        """WAL mode and the tables. Switching to WAL while another process opens the file
        can fail at once with "database is locked" (SQLite does not wait there): tried again
        until the busy timeout."""
        deadline = time.monotonic() + busy_timeout_ms / 1000
        pause = 0.01
        while True:
            try:
                self._conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self._conn.execute(_SCHEMA)
                self._conn.execute(_LOGPROBS)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 0.5)

    def get(self, key: str) -> Completion | None:
        """The stored answer for `key`, or None."""
        with self._lock, self._damaged():
            row = self._conn.execute(f"{_SELECT} WHERE r.key = ?", (key,)).fetchone()
        return None if row is None else _completion(*row[1:])

    def get_many(self, keys: Sequence[str]) -> dict[str, Completion]:
        """The stored answers for those of `keys` that are present."""
        found: dict[str, Completion] = {}
        with self._lock, self._damaged():
            for start in range(0, len(keys), _BATCH):
                chunk = keys[start : start + _BATCH]
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(f"{_SELECT} WHERE r.key IN ({marks})", chunk).fetchall()
                for key, *row in rows:
                    found[key] = _completion(*row)
        return found

    def put(self, key: str, model: str, completion: Completion) -> None:
        """Store one answer."""
        self.put_many([(key, model, completion)])

    def put_many(self, rows: Iterable[tuple[str, str, Completion]]) -> None:
        """Store several answers in one transaction."""
        rows = list(rows)
        data = [
            (key, model, c.text, c.prompt_tokens, c.completion_tokens) for key, model, c in rows
        ]
        tokens = [
            (key, json.dumps(c.logprobs, separators=(",", ":")))
            for key, _, c in rows
            if c.logprobs is not None
        ]
        if not data:
            return
        with self._lock, self._damaged():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT OR REPLACE INTO responses "
                    "(key, model, text, prompt_tokens, completion_tokens) VALUES (?, ?, ?, ?, ?)",
                    data,
                )
                self._conn.executemany(
                    "INSERT OR REPLACE INTO logprobs (key, tokens) VALUES (?, ?)", tokens
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def __len__(self) -> int:
        with self._lock, self._damaged():
            return self._conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    @contextmanager
    def _damaged(self) -> Iterator[None]:
        """A file that fails while read or written (damaged, locked past the busy timeout,
        made read-only): LLMSetupError, the file left as it is."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise LLMSetupError(
                f"response cache {str(self.path)[:80]!r} cannot be used ({exc}); give another "
                "cache_path (or set cache: false); the file is left as it is"
            ) from None

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()


def _completion(
    text: str, prompt_tokens: int, completion_tokens: int, tokens: str | None
) -> Completion:
    """A stored answer as the client uses it."""
    return Completion(
        text, prompt_tokens, completion_tokens, None if tokens is None else json.loads(tokens)
    )
