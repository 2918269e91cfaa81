"""Three paraphrases of each fixed fragment of the network-growth prompts (``wording: 1..3``).

See :mod:`socialsim.simulation.wording`: the candidates' profiles stay as they are; only the
instructions around them are reworded.
"""

from __future__ import annotations

from socialsim.simulation.wording import check_paraphrases

PARAPHRASES = check_paraphrases(
    {
        "You have just joined a social media platform. These people are on it:": (
            "You are new on a social media platform. Here are some people who use it:",
            "You just signed up to a social media site. These are people you can find there:",
            "You have newly joined a social network. The following people are members:",
        ),
        "Whom do you follow? Give the numbers of at most": (
            "Who will you follow? List the numbers of no more than",
            "Which of them do you follow? Name the numbers of up to",
            "Choose whom to follow: give the numbers of at most",
        ),
        "the ones you would most like to read, as JSON:": (
            "those whose posts you would most want to read, as JSON:",
            "picking the ones you would most enjoy reading, in JSON:",
            "the people you would most like to read, in JSON form:",
        ),
        "You are back on your social media platform. You follow:": (
            "You have returned to your social media platform. People you follow:",
            "You log back in to your social media platform. You currently follow:",
            "Back on your social media platform again; these are the people you follow:",
        ),
        "People you could follow:": (
            "People you might follow:",
            "Others you could start following:",
            "Candidates you could follow:",
        ),
        "You may follow at most one new person (a number from the second list) and unfollow "
        "at most one person you follow (a number from the first list). Answer as JSON: ": (
            "You can follow up to one new person (a number from the second list) and stop "
            "following up to one person (a number from the first list). Reply in JSON: ",
            "Pick at most one new person to follow (from the second list) and at most one to "
            "unfollow (from the first list), by number. Answer in JSON: ",
            "Follow no more than one new person (second list) and unfollow no more than one "
            "you follow (first list), giving numbers. Answer as JSON: ",
        ),
        "empty lists keep things as they are.": (
            "leave both lists empty to change nothing.",
            "empty lists mean no change.",
            "with empty lists nothing changes.",
        ),
    },
    "network_growth",
)
