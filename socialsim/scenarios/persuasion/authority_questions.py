"""The question library of the authority scenario, and who asserts the false answer per domain.

Each :class:`AuthorityQuestion` is a multiple-choice item with its correct letter and the
false letter an authority asserts. The built-in library is
``socialsim/scenarios/data/authority_questions.yaml`` (111 items in 11 domains, written from
common knowledge; the file header says how); a user adds items with a ``questions_file`` in
the same format. A claim of the claims library can be asked too: its direct probe becomes a
question, its topic the domain and its manipulated option the authority's answer.

>>> item = builtin_questions()["geo_australia_capital"]
>>> item.option(item.correct), item.option(item.authority)
('Canberra', 'Sydney')
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from socialsim.core.claims import CLAIM_ID_PATTERN, LETTERS, Lettered, LibraryClaim
from socialsim.core.errors import ConfigError, DataFileError
from socialsim.core.validation import parse_entries
from socialsim.core.yaml_safe import load_yaml_file

BUILTIN_FILE = "data/authority_questions.yaml"

#: Who asserts the false answer, by question domain (``authorities`` in the params).
DEFAULT_AUTHORITIES: dict[str, str] = {
    "health": "a physician with twenty years of clinical practice",
    "science": "a professor of physics and chemistry at a leading university",
    "biology": "a professor of biology at a leading university",
    "geography": "a geographer who has taught and mapped the world's regions for decades",
    "history": "a professor of history at a leading university",
    "law": "a judge who has sat on the bench for twenty years",
    "mathematics": "a professor of mathematics at a leading university",
    "astronomy": "an astronomer at a national observatory",
    "literature": "a professor of literature at a leading university",
    "economics": "an economist at a central bank",
    "computing": "a professor of computer science at a leading university",
}


class AuthorityQuestion(Lettered, BaseModel):
    """A multiple-choice question with its correct letter and the authority's false letter."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(..., pattern=CLAIM_ID_PATTERN, description="unique id")
    domain: str = Field("general", min_length=1, description="the subject; picks the authority")
    question: str = Field(..., min_length=1)
    options: list[str] = Field(..., min_length=2, max_length=len(LETTERS))
    correct: str = Field(..., description="letter of the correct option")
    authority: str = Field(..., description="letter of the false option the authority asserts")

    @model_validator(mode="after")
    def _letters(self) -> AuthorityQuestion:
        allowed = self.letters
        for name in ("correct", "authority"):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} {getattr(self, name)!r} is not one of {allowed}")
        if self.correct == self.authority:
            raise ValueError("authority must be a wrong option, not the correct one")
        return self

    @classmethod
    def from_claim(cls, claim: LibraryClaim) -> AuthorityQuestion:
        """A claim's direct probe as a question: its topic the domain, its manipulated option
        the authority's answer."""
        probe = claim.direct_probe()
        return cls(
            id=claim.id,
            domain=claim.topic,
            question=probe.question,
            options=probe.options,
            correct=probe.correct,
            authority=probe.manipulated or "",
        )


def parse_questions(entries: Any, source: str) -> dict[str, AuthorityQuestion]:
    """Validate a list of question entries; DataFileError naming the source, entry and field."""
    return {q.id: q for q in parse_entries(entries, source, AuthorityQuestion, "questions")}


@lru_cache(maxsize=1)
def _builtin() -> dict[str, AuthorityQuestion]:
    text = resources.files("socialsim.scenarios").joinpath(BUILTIN_FILE).read_text("utf-8")
    return parse_questions(yaml.safe_load(text), f"socialsim/scenarios/{BUILTIN_FILE}")


def builtin_questions() -> dict[str, AuthorityQuestion]:
    """The questions shipped with socialsim, by id, in file order."""
    return dict(_builtin())


def load_questions_file(path: str | Path) -> dict[str, AuthorityQuestion]:
    """Questions from a user YAML file (a list, or a mapping with a ``questions`` list)."""
    data = load_yaml_file(path, "questions file", error=DataFileError)
    if isinstance(data, dict) and "questions" in data:
        data = data["questions"]
    return parse_questions(data, str(path))


def resolve_questions(
    ids: list[str] | None,
    bank: dict[str, AuthorityQuestion],
    claims: dict[str, LibraryClaim],
    where: str = "scenario.params.questions",
) -> list[AuthorityQuestion]:
    """The questions named by `ids` (the question bank first, then the claims library);
    the whole bank when `ids` is None. ConfigError for an unknown id or an empty list."""
    if ids is None:
        ids = list(bank)
    if not ids:
        raise ConfigError(f"{where}: give at least one question id")
    out = []
    for qid in ids:
        if qid in bank:
            out.append(bank[qid])
        elif qid in claims:
            try:
                out.append(AuthorityQuestion.from_claim(claims[qid]))
            except ValidationError:
                raise ConfigError(
                    f"{where}: claim {qid!r} has no manipulated option on its direct probe, so "
                    "no false answer to assert; pick another question"
                ) from None
        else:
            known = ", ".join(list(bank)[:4])
            raise ConfigError(
                f"{where}: {qid!r} is not in the claims library nor the authority question "
                f"library (e.g. {known}); add it with questions_file, claims_file or custom_claims"
            )
    return out


def authority_for(domain: str, authorities: dict[str, str], fallback: str) -> str:
    """Who asserts the false answer for a question of `domain`: ``authorities[domain]``, else
    `fallback`."""
    return authorities.get(domain, fallback)


__all__ = [
    "DEFAULT_AUTHORITIES",
    "AuthorityQuestion",
    "authority_for",
    "builtin_questions",
    "load_questions_file",
    "parse_questions",
    "resolve_questions",
]
