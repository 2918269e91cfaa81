"""Three paraphrases of each fixed fragment of the persuasion prompts (``wording: 1..3``).

Shared by the authority, debate, accumulation and campaign scenarios (they ask the same
agreement question). See :mod:`socialsim.simulation.wording`: the proposition, the questions
and what the other side said stay as they are; only the instructions are reworded.
"""

from __future__ import annotations

from socialsim.simulation.wording import check_paraphrases

PARAPHRASES = check_paraphrases(
    {
        "How much do you agree with this statement:": (
            "To what extent do you agree with the following statement:",
            "How strongly do you agree with this claim:",
            "Rate your agreement with this statement:",
        ),
        "Use the scale": ("Answer on the scale", "Use this scale:", "Rate it on the scale"),
        "Answer with the letter of the correct option and how confident you are (0-100).": (
            "Give the letter of the right option and your confidence (0-100).",
            "Say which option letter is correct and how sure you are, from 0 to 100.",
            "Reply with the correct option's letter and your confidence from 0 to 100.",
        ),
        "Answer the question again: the letter and your confidence (0-100).": (
            "Answer once more: the letter and your confidence (0-100).",
            "Give your answer again, with the letter and how sure you are (0-100).",
            "Please answer again, stating the letter and your confidence (0-100).",
        ),
        "I can tell you with certainty that the correct answer is": (
            "I know for certain that the right answer is",
            "I can assure you that the correct answer is",
            "You can take it from me that the correct answer is",
        ),
        "You just had this conversation:": (
            "Here is the conversation you just had:",
            "You have just finished this conversation:",
            "This is the conversation you just took part in:",
        ),
        "You are in a short online debate with": (
            "You are having a brief online debate with",
            "You are debating online, briefly, with",
            "You are taking part in a short online debate with",
        ),
        "Use your strongest arguments.": (
            "Bring your best arguments.",
            "Make the strongest case you can.",
            "Use the most convincing arguments you have.",
        ),
        "with your honest reaction.": (
            "with how you honestly react.",
            "giving your honest response.",
            "with your sincere reaction.",
        ),
        "Here is a text you read:": (
            "You read the following text:",
            "This is a text you came across:",
            "You have read this text:",
        ),
        "Your conversation partner says:": (
            "The person you are talking with says:",
            "Your partner in the conversation says:",
            "The other person in the conversation says:",
        ),
    },
    "persuasion",
)
