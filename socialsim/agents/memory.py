"""Memory: an agent's bounded episodic memory, retrieved by recency, relevance and importance.

Items are plain data. A memory outlives whoever caused it: an item read from an agent that
has since left the run stays retrievable until it is evicted, which is how manipulated
knowledge persists after its source is gone.

Retrieval score of an item (Generative-Agents style, no network, deterministic):

    recency_weight * 0.5 ** (age / half_life)
    + relevance_weight * bm25(query, item) / max_bm25
    + importance_weight * importance

Relevance is BM25 over lowercase word tokens with stop words removed. Ties go to newer items.

The index is kept small, since a run holds every agent's memory at once: a text that many
agents remember (a message and its recipients) is held once, with its term counts, for as
long as any memory holds it; an item's postings are its slot under each of its terms (a
tuple only for a term that several items share), and lengths sit in an array.
"""

from __future__ import annotations

import math
import re
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np

_TOKEN = re.compile(r"[a-z0-9]+")
_BM25_K1 = 1.2
_BM25_B = 0.75

STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves said says say also s t re ve ll d m
    """.split()
)


def tokenize(text: str) -> list[str]:
    """Lowercase word tokens of a text, stop words and one-letter tokens removed."""
    return [t for t in _TOKEN.findall(text.lower()) if len(t) > 1 and t not in STOP_WORDS]


@dataclass(frozen=True, slots=True)
class MemoryItem:
    """One remembered event: what, when, of which kind, from whom, and how important."""

    text: str
    step: int
    kind: str = "read"
    source: int | None = None
    importance: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of this item."""
        return asdict(self)


class Memory:
    """Bounded episodic memory: the oldest item is evicted first once capacity is reached."""

    def __init__(
        self,
        capacity: int,
        *,
        half_life: float = 10.0,
        recency_weight: float = 1.0,
        relevance_weight: float = 1.0,
        importance_weight: float = 0.5,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"memory capacity must be >= 1, got {capacity}")
        if half_life <= 0:
            raise ValueError(f"memory half_life must be > 0, got {half_life}")
        self.capacity = capacity
        self.half_life = float(half_life)
        self.recency_weight = recency_weight
        self.relevance_weight = relevance_weight
        self.importance_weight = importance_weight
        self.clear()

    def clear(self) -> None:
        """Forget everything."""
        # A ring buffer: item number `seq` lives in slot `seq % capacity`.
        size = min(self.capacity, 16)
        self._items: list[MemoryItem] = []
        self._texts: list[_Text] = []  # each item's text with its term counts, by slot
        self._steps = np.zeros(size, dtype=np.float64)
        self._importance = np.zeros(size, dtype=np.float64)
        self._seqs = np.zeros(size, dtype=np.int64)
        self._lengths = np.zeros(size, dtype=np.int64)
        # term -> the slot of the one item holding it, or a tuple of the slots, oldest item first
        # (tuples of ints, unlike lists, are left out of the garbage collector's passes)
        self._postings: dict[str, int | tuple[int, ...]] = {}
        self._total_length = 0
        self._seq = 0

    def __getstate__(self) -> dict[str, Any]:
        """What a checkpoint keeps: the settings and the items, oldest first, as tuples (the
        index is made again on load)."""
        settings = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        rows = [(i.text, i.step, i.kind, i.source, i.importance) for i in self.items]
        return {"settings": settings, "rows": rows}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Rebuild from :meth:`__getstate__`. Items are numbered again from 0, which keeps
        their order, so retrieval ranks them as before."""
        vars(self).update(state["settings"])
        self.clear()
        for row in state["rows"]:
            self._append(MemoryItem(*row))

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[MemoryItem]:
        return iter(self.items)

    @property
    def items(self) -> list[MemoryItem]:
        """All items, oldest first."""
        if len(self._items) < self.capacity:
            return list(self._items)
        start = self._seq % self.capacity
        return self._items[start:] + self._items[:start]

    def add(
        self,
        text: str,
        step: int,
        kind: str = "read",
        source: int | None = None,
        importance: float = 1.0,
    ) -> MemoryItem:
        """Remember one event (evicting the oldest item when full) and return it."""
        shared = _shared(text)
        item = MemoryItem(
            text=shared.text, step=int(step), kind=kind, source=source, importance=importance
        )
        self._append(item, shared)
        return item

    def _append(self, item: MemoryItem, shared: _Text | None = None) -> None:
        if shared is None:
            shared = _shared(item.text)
            if item.text is not shared.text:
                item = replace(item, text=shared.text)
        seq = self._seq
        slot = seq % self.capacity
        if len(self._items) == self.capacity:
            self._forget(slot)
            self._items[slot] = item
            self._texts[slot] = shared
        else:
            if slot == len(self._steps):
                grown = min(self.capacity, 2 * slot)
                self._steps = np.resize(self._steps, grown)
                self._importance = np.resize(self._importance, grown)
                self._seqs = np.resize(self._seqs, grown)
                self._lengths = np.resize(self._lengths, grown)
            self._items.append(item)
            self._texts.append(shared)
        self._steps[slot] = item.step
        self._importance[slot] = item.importance
        self._seqs[slot] = seq
        self._lengths[slot] = shared.length
        postings = self._postings
        for term in shared.counts:
            held = postings.get(term)
            if held is None:
                postings[term] = slot
            elif type(held) is int:
                postings[term] = (held, slot)
            else:
                postings[term] = (*held, slot)
        self._total_length += shared.length
        self._seq = seq + 1

    def _forget(self, slot: int) -> None:
        self._total_length -= int(self._lengths[slot])
        postings = self._postings
        for term in self._texts[slot].counts:
            held = postings[term]
            if type(held) is int:
                del postings[term]
            else:  # the oldest item first: the one forgotten (the oldest) is always the first
                postings[term] = held[1] if len(held) == 2 else held[1:]

    def retrieve(self, query: str, k: int, now: int | None = None) -> list[MemoryItem]:
        """The k best items for a query, best first (recency + relevance + importance)."""
        n = len(self._items)
        if k <= 0 or n == 0:
            return []
        steps = self._steps[:n]
        age = (steps.max() if now is None else float(now)) - steps
        np.maximum(age, 0.0, out=age)
        score = np.exp(age * (-math.log(2.0) / self.half_life))
        score *= self.recency_weight
        score += self.importance_weight * self._importance[:n]
        relevance = self._bm25(query)
        if relevance is not None:  # items sharing no term gain 0.0
            gains = np.array(relevance)
            score += (self.relevance_weight / gains.max()) * gains
        order = np.lexsort((-self._seqs[:n], -score))[:k]
        items = self._items
        return [items[i] for i in order.tolist()]

    def _bm25(self, query: str) -> list[float] | None:
        """The BM25 score of every item, by slot (0.0 for an item sharing no term with the
        query); None when no item does."""
        postings = self._postings
        terms = _query_terms(query).intersection(postings)
        if not terms:
            return None
        n = len(self._items)
        texts = self._texts
        norm = _BM25_K1 * (1.0 - _BM25_B)
        per_length = _BM25_K1 * _BM25_B * n / (self._total_length or 1)
        scaled = (per_length * self._lengths[:n]).tolist()
        scores = [0.0] * n
        for term in terms:
            held = postings[term]
            slots = (held,) if type(held) is int else held
            df = len(slots)
            idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5)) * (_BM25_K1 + 1.0)
            for slot in slots:
                tf = texts[slot].counts[term]
                scores[slot] += idf * tf / (tf + norm + scaled[slot])
        return scores

    def to_list(self) -> list[dict[str, Any]]:
        """JSON-ready list of items, oldest first."""
        return [item.to_dict() for item in self.items]

    @classmethod
    def from_list(
        cls, data: Iterable[dict[str, Any]], capacity: int | None = None, **kwargs: Any
    ) -> Memory:
        """A memory holding these items (oldest first); capacity defaults to their number."""
        items = [MemoryItem(**row) for row in data]
        memory = cls(capacity if capacity is not None else max(1, len(items)), **kwargs)
        for item in items:
            memory._append(item)
        return memory


class _Text:
    """A remembered text with its term counts (the counts of :func:`tokenize`'s tokens, in
    order of first occurrence) and token count; one object for every memory holding it."""

    __slots__ = ("text", "counts", "length", "__weakref__")

    def __init__(self, text: str) -> None:
        tokens = tokenize(text)
        counts: dict[str, int] = {}
        for token in tokens:
            counts[token] = counts.get(token, 0) + 1
        self.text, self.counts, self.length = text, counts, len(tokens)


class _Held(weakref.ref):
    """A weak reference to a :class:`_Text` that knows its text (to drop its entry)."""

    __slots__ = ("key",)


def _gone(ref: _Held) -> None:
    """Drop a text no memory holds any more (unless it was held again since)."""
    if _TEXTS.get(ref.key) is ref:
        _TEXTS.pop(ref.key, None)


# every text some memory holds, while one does (a plain dict of weak references: a lookup is
# one C call, as a store needs on every message it remembers)
_TEXTS: dict[str, _Held] = {}


def _shared(text: str) -> _Text:
    """The one :class:`_Text` of this text (made when no memory holds it yet)."""
    ref = _TEXTS.get(text)
    shared = ref() if ref is not None else None
    if shared is None:
        shared = _Text(text)
        ref = _Held(shared, _gone)
        ref.key = text
        _TEXTS[text] = ref
    return shared


@lru_cache(maxsize=1024)
def _query_terms(text: str) -> frozenset[str]:
    return frozenset(t for t in set(_TOKEN.findall(text.lower())) - STOP_WORDS if len(t) > 1)
