"""Seeded draws of persona fields, each a whole column at once from one generator.

Weighted choices (:func:`choose`), weighted picks of several options without replacement
(:func:`choose_k`), region-appropriate unique names (:func:`sample_names`), and the default
coupling of education and occupation to age (:func:`cap_education`,
:func:`default_occupations`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from socialsim.agents.sampling_columns import CodedColumn, TupleColumn
from socialsim.agents.sampling_spec import builtin_tables, weights


def choose(rng, n: int, options: list[Any], p: np.ndarray) -> CodedColumn:
    """n weighted draws of the options, as codes into `options`."""
    return CodedColumn.of(rng.choice(len(options), size=n, p=p), list(options))


def choose_k(rng, n: int, options: list[Any], p: np.ndarray, k: tuple[int, int]) -> TupleColumn:
    """n weighted samples without replacement of lo..hi options each (Gumbel top-k).

    Each row keeps its draws in order of decreasing key.
    """
    hi = min(k[1], int((p > 0).sum()))
    counts = rng.integers(min(k[0], hi), hi + 1, size=n)
    with np.errstate(divide="ignore"):
        logp = np.log(p)
    top = np.full((n, hi), -1, dtype=np.int64)
    for start in range(0, n, 50_000):
        m = min(n, start + 50_000) - start
        keys = -(logp + rng.gumbel(size=(m, len(options))))
        if hi:
            best = np.argpartition(keys, hi - 1, axis=1)[:, :hi]
            order = np.argsort(np.take_along_axis(keys, best, axis=1), axis=1)
            top[start : start + m] = np.take_along_axis(best, order, axis=1)
    top[np.arange(hi)[None, :] >= counts[:, None]] = -1
    return TupleColumn.of(top, list(options))


def _rows_by(codes: np.ndarray, table: list[Any]) -> list[tuple[Any, np.ndarray]]:
    """(value, rows holding it in increasing order) for each value present, values sorted."""
    present = np.unique(codes)
    return sorted(((table[c], np.flatnonzero(codes == c)) for c in present.tolist()), key=_first)


def _first(item: tuple[Any, np.ndarray]) -> Any:
    return item[0]


_MIDDLE = [""] + [f" {chr(64 + i)}." for i in range(1, 27)]  # no initial, or one of A..Z


def sample_names(rng, countries: CodedColumn, genders: CodedColumn) -> list[str]:
    """Region-appropriate names, unique in the population while combinations last.

    Once a region's first x last combinations run out, middle initials widen the pool.
    """
    dist, tables = builtin_tables()
    known = dist["countries"]
    n = len(countries.codes)
    regions = sorted(tables)
    region_of = np.zeros(n, dtype=np.int64)
    for code, rows in _rows_by(countries.codes, countries.table):
        mix = known[code]["names"] if code in known else dict.fromkeys(regions, 1.0)
        drawn = choose(rng, len(rows), *weights("names", mix))
        region_of[rows] = np.asarray([regions.index(r) for r in drawn.table])[drawn.codes]
    sexes = ("any", "female", "male")
    sex_of = np.asarray([sexes.index(g) if g in sexes[1:] else 0 for g in genders.table])
    pair = region_of * 3 + sex_of[genders.codes]
    labels = [(r, x) for r in regions for x in sexes]
    names: list[str] = [""] * n
    seen: set[str] = set()
    for (region, sex), rows in _rows_by(pair, labels):
        table = tables[region]
        firsts = table["female"] + table["male"] if sex == "any" else table[sex]
        lasts = table["last"]
        combos = len(firsts) * len(lasts)
        space = combos * 27

        def name(code: int, firsts=firsts, lasts=lasts, combos=combos) -> str:
            initial, c = divmod(code, combos)
            return f"{firsts[c // len(lasts)]}{_MIDDLE[initial]} {lasts[c % len(lasts)]}"

        plain = rng.choice(combos, size=min(len(rows), combos), replace=False)
        wide = rng.choice(
            space - combos, size=min(len(rows) - len(plain), space - combos), replace=False
        )
        rest = rng.integers(0, space, len(rows) - len(plain) - len(wide))
        codes = rng.permutation(np.concatenate([plain, wide + combos, rest]))
        initial, c = np.divmod(codes, combos)
        first, last = np.divmod(c, len(lasts))
        drawn = [
            f"{firsts[a]}{_MIDDLE[b]} {lasts[d]}"
            for a, b, d in zip(first.tolist(), initial.tolist(), last.tolist(), strict=True)
        ]
        collided = []
        for i, drawn_name in zip(rows.tolist(), drawn, strict=True):
            names[i] = drawn_name
            if drawn_name in seen:
                collided.append(i)
            else:
                seen.add(drawn_name)
        if collided and len(rows) < space:
            for i, tries in zip(
                collided, rng.integers(0, space, (len(collided), 8)).tolist(), strict=True
            ):
                fresh = next((n for n in map(name, tries) if n not in seen), None)
                if fresh is not None:
                    names[i] = fresh
                    seen.add(fresh)
    return names


def default_occupations(rng, education: CodedColumn, ages: np.ndarray) -> CodedColumn:
    """Occupations compatible with each education level; students young, retirees old."""
    dist = builtin_tables()[0]
    levels = list(dist["education"])
    rank = {e: i for i, e in enumerate(levels)}
    table = dist["occupations"]
    names = list(table) + [o for o in ("student", "retired") if o not in table]
    level_of = np.asarray([rank.get(e, len(levels) - 1) for e in education.table])
    level_of = level_of[education.codes] if len(education.table) else education.codes
    out = np.zeros(len(education.codes), dtype=np.int64)
    for level in np.unique(level_of).tolist():
        rows = np.flatnonzero(level_of == level)
        fits = {o: t["weight"] for o, t in table.items() if rank[t["min_education"]] <= level}
        drawn = choose(rng, len(rows), *weights("occupation", fits))
        out[rows] = np.asarray([names.index(o) for o in drawn.table])[drawn.codes]
    u = rng.random(len(education.codes))
    out[(ages < 23) & (u < 0.6)] = names.index("student")
    out[(ages >= 67) & (u < 0.85)] = names.index("retired")
    return CodedColumn.of(out, names)


def cap_education(education: CodedColumn, ages: np.ndarray) -> CodedColumn:
    """Education no higher than the age allows: secondary under 21, bachelor's under 23,
    master's under 26."""
    caps = ((21, "secondary"), (23, "bachelor's"), (26, "master's"))
    order = list(builtin_tables()[0]["education"])
    table = list(education.table) + [cap for _, cap in caps if cap not in education.table]
    rank = np.asarray([order.index(e) if e in order else -1 for e in table])
    codes = education.codes.copy()
    done = np.zeros(len(codes), dtype=bool)
    for age, cap in caps:
        hit = ~done & (ages < age) & (rank[codes] > order.index(cap))
        codes[hit] = table.index(cap)
        done |= hit
    return CodedColumn.of(codes, table)
