"""Three paraphrases of each fixed fragment of the norms prompts (``wording: 1..3``).

See :mod:`socialsim.simulation.wording`: the situation, the options and the neighbours'
choices stay as they are; only the instructions around them are reworded.
"""

from __future__ import annotations

from socialsim.simulation.wording import check_paraphrases

PARAPHRASES = check_paraphrases(
    {
        "What do you do? Options:": (
            "What would you do? Your options:",
            "Which of these do you do?",
            "How do you act? Choose among:",
        ),
        "What people you know did in this same situation last time:": (
            "Last time, in this same situation, people you know did this:",
            "Here is what acquaintances of yours chose when they were in this situation before:",
            "In the same situation last time, people you know chose:",
        ),
        "Answer with the letter of your choice and one short sentence explaining why.": (
            "Give the letter of the option you pick and a short sentence saying why.",
            "Reply with your option's letter and one brief sentence of justification.",
            "State the letter you choose, plus one short sentence with your reason.",
        ),
        "How would most people in this situation see it? expected = what people normally do; "
        "okay = acceptable but not typical; unexpected = a violation people would notice.": (
            "How would most people in this situation judge it? expected = the usual thing to "
            "do; okay = acceptable though not typical; unexpected = a breach people would "
            "notice.",
            "In the eyes of most people in this situation, is it expected (what people "
            "normally do), okay (fine but not typical) or unexpected (a violation others would "
            "notice)?",
            "Judge it as most people here would: expected = normal behaviour; okay = "
            "acceptable but unusual; unexpected = a violation that would be noticed.",
        ),
    },
    "norms",
)
