"""The persona spec: the built-in distribution tables and the overrides a config gives.

The built-in tables live in ``socialsim/agents/data/`` (names by region, 22 countries,
42 occupations, 22 values, 42 interests, 10 communication styles). A spec (the
``population.personas`` mapping of a config) overrides them; its keys:

- ``generator``: ``"default"`` (the only generator).
- ``names``: a list of full names to draw from instead of the regional name tables.
- ``age``: a number, ``{"normal": [mean, sd], "min": 18, "max": 90}`` (rounded to whole years) or
  ``{"uniform": [lo, hi]}`` (every whole age from lo to hi equally often).
- ``gender``, ``country`` (or ``countries``), ``occupation``, ``education``,
  ``political_leaning``, ``communication_style``: ``{value: weight}``, a list of values
  (equal weights) or one value. The default occupations follow education and age
  (the young are mostly students, the old mostly retired); overriding them turns this off.
- ``values``, ``interests``: a list or ``{value: weight}`` of options, or
  ``{"options": <list or weights>, "k": [lo, hi]}`` to pick between lo and hi of them.
- ``credulity``, ``stubbornness``: a number, ``{"beta": [a, b]}`` or ``{"uniform": [lo, hi]}``.
- ``big_five``: ``{"beta": [a, b]}`` for every trait, or ``{trait: <number or beta>}``.
- ``activity_rate``: a number, ``{"lognormal": [mu, sigma]}`` or ``{"uniform": [lo, hi]}``.
- ``framing_susceptibility``, ``source_susceptibility``: a number in [0, 1],
  ``{"beta": [a, b]}`` or ``{"uniform": [lo, hi]}``; 0 when not given. They are drawn after
  every other field, so giving them leaves the rest of the population as it was.
- ``fixed``: ``{field: value}`` set on every persona (e.g. ``{"occupation": "teacher"}``);
  fixed demographics steer the other draws (names follow a fixed country).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, get_args

import numpy as np

from socialsim.core.errors import ConfigError
from socialsim.core.persona import BigFive, Leaning, Persona

_DATA = Path(__file__).parent / "data"
WHERE = "population.personas"
SPEC_KEYS = (
    "generator", "names", "age", "gender", "country", "countries", "occupation", "education",
    "political_leaning", "communication_style", "values", "interests", "credulity",
    "stubbornness", "big_five", "activity_rate", "framing_susceptibility",
    "source_susceptibility", "fixed",
)  # fmt: skip
LEANINGS: tuple[str, ...] = get_args(Leaning)
TRAITS = tuple(BigFive.model_fields)

Sampler = Callable[[np.random.Generator, int], np.ndarray]


@cache
def builtin_tables() -> tuple[dict[str, Any], dict[str, Any]]:
    """The built-in distributions and the regional name tables (read once)."""
    with open(_DATA / "distributions.json", encoding="utf-8") as f:
        dist = json.load(f)
    with open(_DATA / "names.json", encoding="utf-8") as f:
        names = json.load(f)
    return dist, names


def weights(key: str, value: Any) -> tuple[list[Any], np.ndarray]:
    """Options and normalised probabilities from a weights dict, a list, or one value."""
    if isinstance(value, dict):
        options, given = list(value), list(value.values())
    elif isinstance(value, list):
        options, given = list(value), [1.0] * len(value)
    else:
        options, given = [value], [1.0]
    if not all(map(_finite, given)):
        raise ConfigError(f"{WHERE}.{key}: weights must be finite numbers, got {given!r}")
    p = np.asarray(given, dtype=np.float64)
    if not options or (p < 0).any() or not p.sum() > 0:
        raise ConfigError(f"{WHERE}.{key}: needs at least one option and positive weights")
    return options, p / p.sum()


def _finite(value: Any) -> bool:
    """A finite int or float that is not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _pair(key: str, value: Any, kind: str) -> tuple[float, float]:
    if not (isinstance(value, list | tuple) and len(value) == 2 and all(map(_finite, value))):
        raise ConfigError(f"{WHERE}.{key}: {kind} takes two finite numbers, got {value!r}")
    return float(value[0]), float(value[1])


def numeric(key: str, value: Any, kinds: tuple[str, ...]) -> Sampler:
    """A sampler `(rng, n) -> array` from a number or a one-key distribution dict."""
    if _finite(value):
        return lambda rng, n: np.full(n, float(value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ConfigError(f"{WHERE}.{key}: {value!r} must be a finite number")
    if isinstance(value, dict) and value:
        kind = next(iter(value))
        if kind in kinds:
            a, b = _pair(key, value[kind], kind)
            extra = set(value) - {kind} - ({"min", "max"} if kind == "normal" else set())
            if not extra:
                return _sampler(key, kind, a, b, value.get("min"), value.get("max"))
    forms = ", ".join(f"{{{k!r}: [a, b]}}" for k in kinds)
    raise ConfigError(f"{WHERE}.{key}: expected a number or one of {forms}, got {value!r}")


def _sampler(key: str, kind: str, a: float, b: float, lo: Any, hi: Any) -> Sampler:
    if kind == "beta":
        if a <= 0 or b <= 0:
            raise ConfigError(f"{WHERE}.{key}: beta parameters must be > 0, got [{a}, {b}]")
        return lambda rng, n: rng.beta(a, b, n)
    if kind == "uniform":
        if a > b:
            raise ConfigError(f"{WHERE}.{key}: uniform needs lo <= hi, got [{a}, {b}]")
        return lambda rng, n: rng.uniform(a, b, n)
    if kind == "lognormal":
        if b < 0 or a + 3 * b > 700:  # exp(700) is near the largest float
            raise ConfigError(
                f"{WHERE}.{key}: lognormal needs sigma >= 0 and mu + 3 sigma <= 700 (finite "
                f"draws), got [{a}, {b}]"
            )
        return lambda rng, n: rng.lognormal(a, b, n)
    for name, bound in (("min", lo), ("max", hi)):
        if bound is not None and not _finite(bound):
            raise ConfigError(f"{WHERE}.{key}.{name}: {bound!r} must be a finite number")
    low = float(lo) if lo is not None else -np.inf
    high = float(hi) if hi is not None else np.inf
    if b < 0 or low >= high:
        raise ConfigError(f"{WHERE}.{key}: normal needs sd >= 0 and min < max")
    return lambda rng, n: _truncated_normal(rng, n, a, b, low, high)


def _truncated_normal(rng, n: int, mean: float, sd: float, low: float, high: float) -> np.ndarray:
    out = rng.normal(mean, sd, n)
    for _ in range(100):
        bad = (out < low) | (out > high)
        if not bad.any():
            return out
        out[bad] = rng.normal(mean, sd, int(bad.sum()))
    return np.clip(out, low, high)


def list_spec(
    key: str, value: Any, default_k: tuple[int, int]
) -> tuple[list[Any], np.ndarray, tuple[int, int]]:
    """Options, probabilities and (lo, hi) picks per persona of a list field (values, interests)."""
    if isinstance(value, dict) and set(value) & {"options", "k"}:
        if set(value) - {"options", "k"}:
            raise ConfigError(f"{WHERE}.{key}: allowed keys are 'options' and 'k'")
        options, p = weights(key, value.get("options", builtin_tables()[0][key]))
        k = value.get("k", list(default_k))
        k = [k, k] if isinstance(k, int) else k
        lo_f, hi_f = _pair(f"{key}.k", k, "k")
        if not (lo_f.is_integer() and hi_f.is_integer()):
            raise ConfigError(f"{WHERE}.{key}.k: counts must be whole numbers, got {k!r}")
        lo, hi = int(lo_f), int(hi_f)
        if not 0 <= lo <= hi:
            raise ConfigError(f"{WHERE}.{key}.k: needs 0 <= lo <= hi, got {k!r}")
        return options, p, (lo, hi)
    options, p = weights(key, value)
    return options, p, default_k


def check_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec itself once its keys, generator, fixed fields and leanings are valid."""
    if not isinstance(spec, dict):
        raise ConfigError(f"{WHERE}: expected 'default', a file path or a mapping, got {spec!r}")
    for key in spec:
        if key not in SPEC_KEYS:
            allowed = ", ".join(SPEC_KEYS)
            raise ConfigError(f"{WHERE}.{key}: unknown key; allowed keys are {allowed}")
    if spec.get("generator", "default") != "default":
        raise ConfigError(f"{WHERE}.generator: {spec['generator']!r} is unknown; use 'default'")
    if "country" in spec and "countries" in spec:
        raise ConfigError(f"{WHERE}: give 'country' or 'countries', not both")
    fixed = spec.get("fixed", {})
    if not isinstance(fixed, dict):
        raise ConfigError(f"{WHERE}.fixed: expected a mapping of persona fields to values")
    for field, value in fixed.items():
        if field not in Persona.model_fields or field == "id":
            raise ConfigError(f"{WHERE}.fixed.{field}: not a persona field that can be fixed")
        if Persona.model_fields[field].annotation is str and (
            not isinstance(value, str) or not value.strip()
        ):
            raise ConfigError(
                f"{WHERE}.fixed.{field}: {value!r} is no {field}; give a non-empty text"
            )
    if "names" in spec:
        names, _ = weights("names", spec["names"])
        blank = [v for v in names if not isinstance(v, str) or not v.strip()]
        if blank:
            raise ConfigError(f"{WHERE}.names: {blank[0]!r} is no name; give non-empty texts")
    for field in ("occupation", "country", "gender", "education", "communication_style"):
        if field in spec and isinstance(spec[field], dict | list):
            values = weights(field, spec[field])[0]
            blank = [v for v in values if isinstance(v, str) and not v.strip()]
            if blank:
                raise ConfigError(f"{WHERE}.{field}: an empty value; give non-empty texts")
    if "political_leaning" in spec:
        for value in weights("political_leaning", spec["political_leaning"])[0]:
            if value not in LEANINGS:
                raise ConfigError(
                    f"{WHERE}.political_leaning: {value!r} is not one of {', '.join(LEANINGS)}"
                )
    return spec
