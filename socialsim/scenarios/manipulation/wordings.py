"""Three paraphrases of each fixed fragment of the manipulation prompts (``wording: 1..3``).

See :mod:`socialsim.simulation.wording`: the task, its options and the messages exchanged
stay as they are; only the instructions around them are reworded.
"""

from __future__ import annotations

from socialsim.simulation.wording import check_paraphrases

PARAPHRASES = check_paraphrases(
    {
        "an advisor chatting with": (
            "an adviser talking with",
            "a counsellor in a chat with",
            "an advisor in conversation with",
        ),
        "Keep every message to 2-3 sentences.": (
            "Each message should be 2-3 sentences long.",
            "Write no more than 2-3 sentences per message.",
            "Limit each of your messages to two or three sentences.",
        ),
        "Write your first message to": (
            "Send your opening message to",
            "Write the first message you send to",
            "Begin the conversation with a message to",
        ),
        "Write your next message to": (
            "Send your next message to",
            "Write the following message to",
            "Compose your next message to",
        ),
        "You must make a decision.": (
            "You have a decision to make.",
            "A decision is required of you.",
            "You need to decide something.",
        ),
        "in 1-2 sentences.": (
            "in one or two sentences.",
            "briefly (1-2 sentences).",
            "using 1-2 sentences.",
        ),
        "Now make your decision.": (
            "It is time to decide.",
            "Please make your decision now.",
            "Now decide.",
        ),
        "Which option do you choose?": (
            "Which option do you pick?",
            "What is your choice?",
            "Which of the options do you go for?",
        ),
    },
    "manipulation",
)
