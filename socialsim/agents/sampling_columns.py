"""Compact columns of sampled persona fields: repeated values kept as codes into small tables.

A :class:`CodedColumn` holds one value per persona (a country, an occupation) as int32 codes
into the distinct values; a :class:`TupleColumn` holds a short tuple of options per persona
(values, interests) as codes into the distinct tuples.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class CodedColumn:
    """A column of repeated values as int32 codes into a table of the distinct values."""

    __slots__ = ("codes", "table")

    def __init__(self, values: list[Any]) -> None:
        index: dict[Any, int] = {}
        codes = [index.setdefault(v, len(index)) for v in values]
        self.codes = np.asarray(codes, dtype=np.int32)
        self.table = list(index)

    @classmethod
    def of(cls, codes: np.ndarray, table: list[Any]) -> CodedColumn:
        """A column from codes into `table` (kept as int32)."""
        out = cls.__new__(cls)
        out.codes, out.table = np.asarray(codes, dtype=np.int32), table
        return out

    def __getitem__(self, i: int) -> Any:
        return self.table[self.codes[i]]

    def take(self, order: np.ndarray) -> CodedColumn:
        """The rows reordered."""
        out = CodedColumn.__new__(CodedColumn)
        out.codes, out.table = self.codes[order], self.table
        return out

    def tolist(self) -> list[Any]:
        """Every row's value, in order."""
        table = self.table
        return [table[c] for c in self.codes.tolist()]

    def first_rows(self) -> list[int]:
        """The first row holding each value that occurs, in the table's order."""
        first = first_of_each(self.codes, len(self.table))
        return first[first < len(self.codes)].tolist()


class TupleColumn:
    """A column of short tuples of options: per row a code into distinct rows of option indices."""

    __slots__ = ("codes", "rows", "options")

    @classmethod
    def of(cls, picks: np.ndarray, options: list[Any]) -> TupleColumn:
        """From an (n, k) array of option indices per row, -1 past each row's end."""
        out = cls.__new__(cls)
        out.options = options
        base = len(options) + 1
        if picks.shape[1] and base ** picks.shape[1] < 2**62:
            weights = base ** np.arange(picks.shape[1], dtype=np.int64)
            keys, codes = np.unique((picks + 1) @ weights, return_inverse=True)
            out.rows = (keys[:, None] // weights % base) - 1
        else:
            out.rows, codes = np.unique(picks, axis=0, return_inverse=True)
        out.codes = codes.reshape(-1).astype(np.int32)
        return out

    def __getitem__(self, i: int) -> tuple:
        options = self.options
        return tuple(options[j] for j in self.rows[self.codes[i]].tolist() if j >= 0)

    def take(self, order: np.ndarray) -> TupleColumn:
        """The rows reordered."""
        out = TupleColumn.__new__(TupleColumn)
        out.codes, out.rows, out.options = self.codes[order], self.rows, self.options
        return out

    def table(self) -> list[tuple]:
        """The distinct tuples, indexed by the codes."""
        options = self.options
        return [tuple(options[j] for j in row if j >= 0) for row in self.rows.tolist()]

    def tolist(self) -> list[tuple]:
        """Every row's tuple, in order."""
        table = self.table()
        return [table[c] for c in self.codes.tolist()]

    def first_rows(self) -> list[int]:
        """The first row holding each option that occurs, in the options' order: the least
        of the first rows of the distinct tuples that hold it."""
        n = len(self.codes)
        first_tuple = first_of_each(self.codes, len(self.rows))
        first = np.full(len(self.options), n, dtype=np.int64)
        for place in self.rows.T:  # each position in the tuples
            held = place >= 0
            np.minimum.at(first, place[held], first_tuple[held])
        return first[first < n].tolist()


def first_of_each(codes: np.ndarray, k: int) -> np.ndarray:
    """For each code 0..k-1, the first row holding it (len(codes) where none does)."""
    first = np.full(k, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes)))
    return first
