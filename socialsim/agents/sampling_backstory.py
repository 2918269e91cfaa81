"""Backstories of sampled personas: one sentence assembled from the persona's own fields.

A sampled persona keeps only the number of its template (:data:`TEMPLATES`); the sentence is
rebuilt from it whenever the persona is.
"""

from __future__ import annotations

from typing import Any

from socialsim.agents.sampling_spec import builtin_tables

TEMPLATES = (
    "{first} {role} in {place} and spends free time on {i1} and {i2}.",
    "{first} {role} in {place}, has {edu}, and cares most about {v1}.",
    "Raised in {place}, {first} {role} and is passionate about {i1}.",
    "{first} {role} in {place}, is known among friends for a love of {i1}, and values {v1}.",
)

_ROLES = {"retired": "is retired", "unemployed": "is between jobs", "student": "is a student"}
_VOWELS = frozenset("aeiou")


def backstory(template: int, name: str, fields: dict[str, Any]) -> str:
    """One sentence assembled from the persona's own fields."""
    dist = builtin_tables()[0]
    occupation = fields["occupation"]
    role = _ROLES.get(occupation)
    if role is None:
        vowel = occupation[:1].lower() in _VOWELS and not occupation.startswith(("uni", "eu"))
        role = f"works as {'an' if vowel else 'a'} {occupation}"
    country = dist["countries"].get(fields["country"], {}).get("name", fields["country"])
    education = fields["education"]
    interests = fields["interests"] + ["their hobbies", "their friends"]
    return TEMPLATES[template].format(
        first=name.split()[0], role=role, place=country,
        edu=dist["education_phrases"].get(education, f"{education} education"),
        i1=interests[0], i2=interests[1], v1=(fields["values"] or ["their family"])[0],
    )  # fmt: skip
