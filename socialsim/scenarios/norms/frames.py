"""Situational norms as data: frames, behaviour options with judgement distributions, a library.

A :class:`NormFrame` is a situation (setting, roles, attributes, constraints, culture) with
behaviour options; each option is a :class:`Norm` whose judgement is a distribution over
``expected / okay / unexpected`` (a single label is a distribution with all its mass on one
label; ties in the modal label go to the earlier of expected, okay, unexpected). Norms are
non-monotonic: a frame may be declared as a variant of another (``variant_of`` +
``changes`` to its constraints + ``overrides`` of labels + optional extra ``options``), and
:meth:`NormLibrary.label` resolves a behaviour's judgement in a base or derived frame.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from socialsim.core.errors import DataFileError
from socialsim.core.validation import describe_error
from socialsim.core.yaml_safe import load_yaml_file

Label = Literal["expected", "okay", "unexpected"]
LABELS: tuple[str, ...] = ("expected", "okay", "unexpected")
CATEGORIES: tuple[str, ...] = (
    "safety",
    "privacy",
    "proxemics",
    "politeness",
    "cooperation",
    "coordination",
    "communication",
)
DATA_DIR = Path(__file__).parent.parent / "data"


def as_distribution(value: Any) -> dict[str, float]:
    """A label or a {label: weight} mapping as a normalised distribution over LABELS."""
    if isinstance(value, str):
        value = {value.strip().lower(): 1.0}
    if not isinstance(value, dict) or not value:
        raise ValueError(f"a judgement must be one of {', '.join(LABELS)} or a mapping of them")
    dist = {}
    for key, weight in value.items():
        name = str(key).strip().lower()
        if name not in LABELS:
            raise ValueError(f"unknown label {key!r}; allowed: {', '.join(LABELS)}")
        if float(weight) < 0:
            raise ValueError(f"label weight {weight!r} is negative")
        dist[name] = dist.get(name, 0.0) + float(weight)
    total = sum(dist.values())
    if total <= 0:
        raise ValueError("label weights sum to zero")
    return {k: round(dist[k] / total, 6) for k in LABELS if dist.get(k, 0.0) > 0}


def modal_label(dist: dict[str, float]) -> str:
    """The most likely label; ties go to the earlier label in expected, okay, unexpected."""
    return max(LABELS, key=lambda k: (dist.get(k, 0.0), -LABELS.index(k)))


class Norm(BaseModel):
    """A behaviour option in a frame with its judgement distribution and norm category."""

    model_config = ConfigDict(extra="forbid")

    behaviour: str = Field(..., min_length=1)
    judgements: dict[str, float] = Field(..., description="label -> share of judges")
    category: str | None = Field(None, description="safety, privacy, proxemics, politeness, ...")
    culture: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _label_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and "label" in data:
            data = dict(data)
            data["judgements"] = data.pop("label")
        return data

    @field_validator("judgements", mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> dict[str, float]:
        return as_distribution(value)

    @property
    def label(self) -> str:
        """The modal judgement label."""
        return modal_label(self.judgements)

    @property
    def adherent(self) -> float:
        """Share of judges who find the behaviour expected or okay."""
        return self.judgements.get("expected", 0.0) + self.judgements.get("okay", 0.0)


class NormFrame(BaseModel):
    """A situation: setting, roles, attributes, constraints, culture and behaviour options."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(..., min_length=1)
    setting: str = ""
    situation: str = Field("", description="one or two sentences describing the situation")
    roles: dict[str, str] = Field(default_factory=dict, description='e.g. {"actor": "customer"}')
    attributes: dict[str, str] = Field(default_factory=dict, description="age, gender, ...")
    constraints: dict[str, str] = Field(
        default_factory=dict, description="time_of_day, formality, ..."
    )
    culture: str = "global"
    options: list[Norm] = Field(default_factory=list)
    variant_of: str | None = None
    changes: dict[str, str] = Field(
        default_factory=dict, description="constraints changed from the base"
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="behaviour -> new judgement"
    )

    @field_validator("roles", "attributes", "constraints", "changes", mode="before")
    @classmethod
    def _stringify(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
        return value

    @property
    def actor(self) -> str:
        """The role the deciding agent plays."""
        return self.roles.get("actor", "person")

    def option(self, behaviour: str) -> Norm:
        """The option with this behaviour text; KeyError if the frame has none."""
        for norm in self.options:
            if norm.behaviour == behaviour:
                return norm
        raise KeyError(f"frame {self.id!r} has no behaviour {behaviour!r}")

    def most_expected(self) -> Norm:
        """The option most judges expect (then most find okay); first in order on ties."""
        return max(self.options, key=lambda n: (n.judgements.get("expected", 0.0), n.adherent))

    def most_unexpected(self) -> Norm:
        """The option most judges find unexpected (least adherent on ties)."""
        return max(self.options, key=lambda n: (n.judgements.get("unexpected", 0.0), -n.adherent))

    def describe(self) -> str:
        """The situation as text for a prompt (roles, attributes and constraints spelled out)."""
        parts = [self.situation.strip() or f"You are at a {self.setting}."]
        others = {k: v for k, v in self.roles.items() if k != "actor"}
        role = f"You are the {self.actor}"
        if others:
            role += "; " + ", ".join(
                f"the {k.replace('_', ' ')} is a {v}" for k, v in others.items()
            )
        parts.append(role + ".")
        details = {**self.attributes, **self.constraints}
        if details:
            parts.append(
                "Details: "
                + "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in details.items())
                + "."
            )
        return " ".join(parts)


class NormLibrary:
    """Frames by id, with variants resolved against their base frames."""

    def __init__(self, frames: list[NormFrame], source: str = "norms") -> None:
        raw: dict[str, NormFrame] = {}
        for frame in frames:
            if frame.id in raw:
                raise DataFileError(f"{source}: frame id {frame.id!r} is declared twice")
            raw[frame.id] = frame
        self._raw = raw
        self._resolved: dict[str, NormFrame] = {}
        for frame_id in raw:
            self._resolved[frame_id] = self._resolve(frame_id, source, ())

    def _resolve(self, frame_id: str, source: str, seen: tuple[str, ...]) -> NormFrame:
        if frame_id in self._resolved:
            return self._resolved[frame_id]
        frame = self._raw[frame_id]
        if frame.variant_of is None:
            if len(frame.options) < 1:
                raise DataFileError(f"{source}: frame {frame_id!r} has no behaviour options")
            culture = frame.culture
            options = [
                o if o.culture else o.model_copy(update={"culture": culture}) for o in frame.options
            ]
            return frame.model_copy(update={"options": options})
        if frame.variant_of not in self._raw:
            raise DataFileError(
                f"{source}: frame {frame_id!r} is a variant of unknown frame {frame.variant_of!r}"
            )
        if frame.variant_of in seen or frame.variant_of == frame_id:
            raise DataFileError(f"{source}: frame {frame_id!r} is part of a variant_of cycle")
        base = self._resolve(frame.variant_of, source, (*seen, frame_id))
        try:
            return derive_frame(base, frame)
        except KeyError as exc:
            raise DataFileError(f"{source}: frame {frame_id!r}: {exc.args[0]}") from None

    def __len__(self) -> int:
        return len(self._resolved)

    def __iter__(self):
        return iter(self._resolved.values())

    def __contains__(self, frame_id: object) -> bool:
        return frame_id in self._resolved

    def frame(self, frame_id: str) -> NormFrame:
        """The resolved frame (variants carry their base's options with overridden labels)."""
        try:
            return self._resolved[frame_id]
        except KeyError:
            raise KeyError(f"unknown norm frame {frame_id!r}") from None

    def variants(self, frame_id: str) -> list[NormFrame]:
        """Resolved frames declared as direct variants of `frame_id`."""
        return [self._resolved[f.id] for f in self._raw.values() if f.variant_of == frame_id]

    def label(
        self, frame_id: str, behaviour: str, changes: dict[str, str] | None = None
    ) -> dict[str, float]:
        """Judgement distribution of a behaviour in a frame, or in a frame with changed constraints.

        With `changes`, the declared variant whose constraints equal the frame's updated by
        `changes` (same setting, roles and attributes) answers; when no such variant is
        declared, the base frame's judgement is returned unchanged.
        """
        frame = self.frame(frame_id)
        if changes:
            target = {**frame.constraints, **{str(k): str(v) for k, v in changes.items()}}
            for other in self._resolved.values():
                if (
                    other.id != frame.id
                    and other.constraints == target
                    and other.setting == frame.setting
                    and other.roles == frame.roles
                    and other.attributes == frame.attributes
                    and any(o.behaviour == behaviour for o in other.options)
                ):
                    return other.option(behaviour).judgements
        return frame.option(behaviour).judgements

    def select(
        self,
        ids: list[str] | None = None,
        settings: list[str] | None = None,
        cultures: list[str] | None = None,
        min_options: int = 2,
    ) -> list[NormFrame]:
        """Frames matching every given filter (ids, settings, cultures), in library order."""
        out = []
        wanted_cultures = {normalise_culture(c) for c in cultures or []}
        for frame in self._resolved.values():
            if ids and frame.id not in ids:
                continue
            if settings and frame.setting not in settings:
                continue
            if wanted_cultures and normalise_culture(frame.culture) not in wanted_cultures:
                continue
            if len(frame.options) < min_options:
                continue
            out.append(frame)
        return out

    def merged(self, other: NormLibrary) -> NormLibrary:
        """A library with the frames of both (ids must not collide)."""
        return NormLibrary(
            list(self._raw.values()) + list(other._raw.values()), source="merged norms"
        )


def derive_frame(base: NormFrame, variant: NormFrame) -> NormFrame:
    """Resolve a variant: base constraints updated by `changes`, labels replaced by `overrides`."""
    known = {o.behaviour for o in base.options}
    for behaviour in variant.overrides:
        if behaviour not in known:
            raise KeyError(f"override names behaviour {behaviour!r}, which the base frame lacks")
    options = []
    for option in base.options:
        if option.behaviour in variant.overrides:
            option = option.model_copy(
                update={"judgements": as_distribution(variant.overrides[option.behaviour])}
            )
        options.append(option)
    for extra in variant.options:
        options.append(
            extra if extra.culture else extra.model_copy(update={"culture": base.culture})
        )
    fields = variant.model_fields_set
    return base.model_copy(
        update={
            "id": variant.id,
            "situation": variant.situation if "situation" in fields else base.situation,
            "roles": variant.roles if "roles" in fields else base.roles,
            "attributes": variant.attributes if "attributes" in fields else base.attributes,
            "constraints": {**base.constraints, **variant.constraints, **variant.changes},
            "culture": variant.culture if "culture" in fields else base.culture,
            "options": options,
            "variant_of": base.id,
            "changes": dict(variant.changes),
            "overrides": dict(variant.overrides),
        }
    )


# --- culture names -------------------------------------------------------------------------
_CULTURE_ALIASES = {
    "us": "US",
    "usa": "US",
    "united states": "US",
    "america": "US",
    "jp": "JP",
    "japan": "JP",
    "in": "IN",
    "india": "IN",
    "de": "DE",
    "germany": "DE",
    "br": "BR",
    "brazil": "BR",
    "gb": "GB",
    "uk": "GB",
    "united kingdom": "GB",
    "cn": "CN",
    "china": "CN",
    "global": "global",
    "any": "global",
    "": "global",
}


def normalise_culture(name: str | None) -> str:
    """A culture or country name as its short code (Japan -> JP); unknown names pass through."""
    key = (name or "").strip().lower()
    return _CULTURE_ALIASES.get(key, (name or "").strip())


# --- loaders -------------------------------------------------------------------------------
def builtin_library() -> NormLibrary:
    """The hand-written library shipped in socialsim/scenarios/data/norms_*.yaml."""
    frames: list[NormFrame] = []
    for path in sorted(DATA_DIR.glob("norms_*.yaml")):
        frames.extend(load_yaml_frames(path))
    return NormLibrary(frames, source="built-in norms")


def load_yaml_frames(path: str | Path) -> list[NormFrame]:
    """Frames from a YAML file with a top-level `frames:` list."""
    path = Path(path)
    data = load_yaml_file(path, "norms file", error=DataFileError) or {}
    items = data.get("frames") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise DataFileError(f"{path}: expected a top-level 'frames:' list")
    frames = []
    for k, item in enumerate(items, start=1):
        try:
            frames.append(NormFrame.model_validate(item))
        except ValidationError as exc:
            fid = item.get("id", "?") if isinstance(item, dict) else "?"
            raise DataFileError(f"{path}: frame {k} ({fid}): {describe_error(exc)}") from None
    return frames
