"""Three paraphrases of each fixed fragment of the donor-game prompts (``wording: 1..3``).

See :mod:`socialsim.simulation.wording`: the numbers, the strategies and the recipients'
records stay as they are; only the rules' and questions' wording changes.
"""

from __future__ import annotations

from socialsim.simulation.wording import check_paraphrases

PARAPHRASES = check_paraphrases(
    {
        "You are a player in the donor game, an economic game played in rounds. "
        "Answer briefly and only with the JSON that is asked for.": (
            "You take part in the donor game, an economic game of several rounds. Reply "
            "briefly, with nothing but the JSON requested.",
            "You play the donor game, a round-based economic game. Keep answers short and "
            "give only the JSON asked for.",
            "This is the donor game, an economic game in rounds, and you are one of its "
            "players. Answer only with the requested JSON, briefly.",
        ),
        "Write your strategy for this generation in one or two sentences: when do you give, "
        "and how much?": (
            "In one or two sentences, state your strategy for this generation: when will you "
            "give, and how much?",
            "Describe in a sentence or two how you will play this generation: in which cases "
            "do you give, and what amount?",
            "Set out your plan for this generation in one or two sentences: under what "
            "conditions you give and how much.",
        ),
        "Another player is paired with you as the recipient in the same way.": (
            "In the same way, another player has you as their recipient.",
            "Likewise, some other player is matched with you and may give to you.",
            "You are also someone else's recipient, paired in the same manner.",
        ),
        "Resources start again from the same endowment every generation.": (
            "Every generation begins again from the same starting resources.",
            "Each generation, everyone's resources are reset to the same endowment.",
            "At the start of each generation resources go back to the same initial amount.",
        ),
        "Strategies of players who survived the last generation:": (
            "How the survivors of the previous generation said they play:",
            "The strategies of last generation's surviving players:",
            "Players who survived the previous generation used these strategies:",
        ),
        "You have not written down a strategy.": (
            "You have no written strategy.",
            "You did not write down a strategy.",
            "No strategy of yours is on record.",
        ),
        'Answer with the action ("give" or "punish") and the percent of your resources.': (
            'Reply with the action ("give" or "punish") and what percent of your resources to use.',
            'Say which action you take ("give" or "punish") and the percent of your resources.',
            'Give your action ("give" or "punish") together with the percent of your resources.',
        ),
        "What percent of your resources (0 to 100) do you give to player": (
            "How many percent of your resources (0 to 100) do you donate to player",
            "Which share of your resources, in percent from 0 to 100, do you give to player",
            "State the percent (0 to 100) of your resources you hand to player",
        ),
    },
    "donor_game",
)
