"""What an LLM agent of a network-growth run is asked, and how its answer is checked.

A joining agent sees a numbered list of candidates (persona summary, posting activity,
follower count) and names the numbers of up to ``follows_per_join`` of them; a revisiting
agent also sees the numbered list of whom it follows and may name one new person to follow
and one to unfollow. :func:`check_choice` turns an answer into list positions or says why
it is unusable (a number that is not listed, a repeat, too many); an unusable answer is
logged as failed and changes nothing.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, create_model

if TYPE_CHECKING:
    import numpy as np

    from socialsim.simulation.model import SocialModel


class JoinChoice(BaseModel):
    """A joining agent's answer: the numbers of the people it follows."""

    follow: list[int] = Field(default_factory=list, description="numbers of people to follow")


class RevisitChoice(BaseModel):
    """A revisiting agent's answer: whom it follows and unfollows, by number."""

    follow: list[int] = Field(default_factory=list, description="numbers of people to follow")
    unfollow: list[int] = Field(
        default_factory=list, description="numbers of people you follow to unfollow"
    )


@lru_cache(maxsize=64)
def join_schema(most: int) -> type[BaseModel]:
    """:class:`JoinChoice` with at most `most` numbers (a grammar-bound model cannot ramble)."""
    return create_model(
        "JoinChoice",
        __base__=JoinChoice,
        follow=(list[int], Field(default_factory=list, max_length=max(most, 0))),
    )


@lru_cache(maxsize=1)
def revisit_schema() -> type[BaseModel]:
    """:class:`RevisitChoice` with at most one number in each list."""
    return create_model(
        "RevisitChoice",
        __base__=RevisitChoice,
        follow=(list[int], Field(default_factory=list, max_length=1)),
        unfollow=(list[int], Field(default_factory=list, max_length=1)),
    )


def profile_line(model: SocialModel, agent: int, followers: int) -> str:
    """One candidate as shown: name, age, occupation, leaning, interests, activity, followers."""
    p = model.persona_of(agent)
    interests = ", ".join(p.interests[:3]) or "none given"
    rate = float(model.activity_rates[agent])
    return (
        f"{p.name}, {p.age}, {p.occupation}, politically {p.political_leaning}; "
        f"interests: {interests}; posts about {rate:.1f} times a day; "
        f"{followers} follower{'s' if followers != 1 else ''}"
    )


def join_prompt(model: SocialModel, shown: np.ndarray, followers: np.ndarray, most: int) -> str:
    """The question to an agent that has just joined: whom to follow among `shown`."""
    lines = [
        "You have just joined a social media platform. These people are on it:",
        *(
            f"{k}. {profile_line(model, int(a), int(followers[a]))}"
            for k, a in enumerate(shown, start=1)
        ),
        "",
        f"Whom do you follow? Give the numbers of at most {most} of them, the ones you "
        'would most like to read, as JSON: {"follow": [numbers]}.',
    ]
    return "\n".join(lines)


def revisit_prompt(
    model: SocialModel, shown: np.ndarray, followed: np.ndarray, followers: np.ndarray
) -> str:
    """The question to a revisiting agent: follow one of `shown`, unfollow one of `followed`."""
    lines = ["You are back on your social media platform. You follow:"]
    lines += [
        f"{k}. {profile_line(model, int(a), int(followers[a]))}"
        for k, a in enumerate(followed, start=1)
    ] or ["(nobody)"]
    lines += ["", "People you could follow:"]
    lines += [
        f"{k}. {profile_line(model, int(a), int(followers[a]))}"
        for k, a in enumerate(shown, start=1)
    ] or ["(nobody)"]
    lines += [
        "",
        "You may follow at most one new person (a number from the second list) and unfollow "
        "at most one person you follow (a number from the first list). Answer as JSON: "
        '{"follow": [numbers], "unfollow": [numbers]}; empty lists keep things as they are.',
    ]
    return "\n".join(lines)


def check_numbers(numbers: list[int], listed: int, most: int, what: str) -> list[int] | str:
    """0-based positions of the 1-based `numbers`, or why they are unusable."""
    if len(set(numbers)) != len(numbers):
        return f"{what}: a number given twice ({numbers})"
    if len(numbers) > most:
        return f"{what}: {len(numbers)} numbers given, at most {most} allowed"
    bad = [k for k in numbers if not 1 <= k <= listed]
    if bad:
        return f"{what}: {bad[0]} is not a listed number (1..{listed})"
    return [k - 1 for k in numbers]


def check_choice(
    value: BaseModel, shown: int, followed: int, most_follow: int, most_unfollow: int
) -> tuple[list[int], list[int]] | str:
    """(positions to follow in the shown list, positions to unfollow), or why unusable."""
    follow = check_numbers(list(value.follow), shown, most_follow, "follow")
    if isinstance(follow, str):
        return follow
    unfollow = check_numbers(
        list(getattr(value, "unfollow", [])), followed, most_unfollow, "unfollow"
    )
    if isinstance(unfollow, str):
        return unfollow
    return follow, unfollow
