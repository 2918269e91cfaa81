"""Three paraphrases of each fixed fragment of the maze prompts (``wording: 1..3``).

See :mod:`socialsim.simulation.wording`: the maze, the maps and the dialogue stay as they
are; only the instructions around them are reworded.
"""

from __future__ import annotations

from socialsim.simulation.wording import check_paraphrases

PARAPHRASES = check_paraphrases(
    {
        "You are solving a maze puzzle.": (
            "Your task is a maze puzzle.",
            "You are working out a path through a maze.",
            "You have a maze to solve.",
        ),
        "you cannot move through walls ('|' or '---'). Be brief and precise.": (
            "walls ('|' or '---') cannot be crossed. Keep it short and exact.",
            "no move may pass through a wall ('|' or '---'). Be concise and accurate.",
            "walls, drawn as '|' or '---', block a move. Answer briefly and precisely.",
        ),
        "rows count from the top, columns from the left.": (
            "rows are numbered from the top and columns from the left.",
            "row numbers go down from the top, column numbers right from the left.",
            "count rows downward from the top and columns rightward from the left.",
        ),
        "State the full path as a list of moves, e.g. PATH: R R D L.": (
            "Give the whole path as moves, for example PATH: R R D L.",
            "Write out the complete path as a sequence of moves, like PATH: R R D L.",
            "Answer with the entire path as moves, as in PATH: R R D L.",
        ),
        "Each of you sees only some walls;": (
            "Neither of you sees every wall;",
            "Each of you can see only part of the walls;",
            "You both see just some of the walls;",
        ),
        "Write your next message to your partner. Share what you see; when you are sure, "
        "state the full path from S to G as moves.": (
            "Send your partner your next message. Tell them what you see; once you are "
            "certain, give the whole path from S to G as moves.",
            "Write the next message for your partner, sharing what your map shows; when you "
            "are confident, write the complete path from S to G as moves.",
            "Reply to your partner: describe what you can see, and when you are sure, state "
            "the full S-to-G path as moves.",
        ),
    },
    "collaboration",
)
