"""Three paraphrases of each fixed fragment of the negotiation prompts (``wording: 1..3``).

See :mod:`socialsim.simulation.wording`: the amounts, reservation values and offers stay as
they are; only the instructions around them are reworded.
"""

from __future__ import annotations

from socialsim.simulation.wording import check_paraphrases

PARAPHRASES = check_paraphrases(
    {
        "You are negotiating on your own behalf. Think about what you can get, answer with the "
        "JSON object asked for and nothing else.": (
            "You negotiate for yourself. Consider what you can obtain and reply only with the "
            "JSON object requested.",
            "You are a negotiator acting in your own interest. Weigh what you can get; answer "
            "with just the requested JSON object.",
            "You bargain on your own account. Think about what you could achieve, then give "
            "the JSON object asked for and nothing more.",
        ),
        "If you do not agree, nobody gets anything.": (
            "Without an agreement, neither of you gets anything.",
            "If there is no agreement, both of you get nothing.",
            "No agreement means nobody receives anything.",
        ),
        "Without agreement there is no sale.": (
            "If you do not agree, the item is not sold.",
            "No agreement, no sale.",
            "The sale only happens if you agree.",
        ),
        "does not know this number.": (
            "is not told this number.",
            "has no knowledge of this number.",
            "cannot see this number.",
        ),
        "is told this number too, as you are told theirs.": (
            "knows this number as well, as you know theirs.",
            "is shown this number too, as you are shown theirs.",
            "has this number as well, as you have theirs.",
        ),
        "Offers so far:": ("Offers made so far:", "The offers until now:", "Earlier offers:"),
        "You make the first offer.": (
            "You open with the first offer.",
            "The first offer is yours to make.",
            "You start by making an offer.",
        ),
        "This is the last turn:": (
            "This is the final turn:",
            "No turns are left after this one:",
            "You are at the last turn:",
        ),
    },
    "negotiation",
)
