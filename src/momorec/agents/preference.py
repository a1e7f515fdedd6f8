"""A judge's preference from its verdict-token probabilities, asked in both orders so position bias cancels.

The judge answers ``{"winner": "A" | "B" | "tie", ...}``. Where the endpoint returns token log-probabilities,
the probability of each verdict at the winner slot is read (``verdict_probabilities``) instead of only the
sampled verdict. With the first agent shown as label A in one order and as label B in the other,

    preference_first = P(A | first, second) + P(B | second, first)
                       -----------------------------------------------------------------------------
                       P(A | first, second) + P(B | second, first) + P(B | first, second) + P(A | second, first)

so a judge with a constant preference for a position (any P(A), P(B) that do not depend on the contents)
gets exactly 0.5. A comparison is a tie when ``|preference - 0.5| <= margin``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from momorec.llm.client import TokenLogprobs

VERDICTS = ("A", "B", "tie")
WINNER_KEY = '"winner"'


def verdict_of_token(token: str) -> str | None:
    """The verdict a token stands for at the winner slot (``' "A'`` -> ``"A"``, ``"tie"`` -> ``"tie"``)."""
    text = token.strip().strip('"').strip()
    if text.upper() in ("A", "B"):
        return text.upper()
    if text.lower() in ("tie", "ti"):  # "tie" may be split into "ti" + "e"
        return "tie"
    return None


def verdict_probabilities(tokens: Sequence[TokenLogprobs]) -> dict[str, float] | None:
    """P(A), P(B), P(tie) at the winner slot, normalised over the verdicts; ``None`` when there is no slot.

    The winner slot is the first answer token after ``"winner"`` whose sampled text is a verdict; its top
    alternatives give the probabilities (a verdict absent from them gets 0).
    """
    text = ""
    key_end: int | None = None
    for token in tokens:
        if key_end is not None and len(text) >= key_end and verdict_of_token(token.token) is not None:
            mass = dict.fromkeys(VERDICTS, 0.0)
            for alternative, logprob in token.top:
                verdict = verdict_of_token(alternative)
                if verdict is not None:
                    mass[verdict] += math.exp(logprob)
            total = sum(mass.values())
            return {verdict: value / total for verdict, value in mass.items()} if total > 0 else None
        text += token.token
        if key_end is None and WINNER_KEY in text:
            key_end = text.index(WINNER_KEY) + len(WINNER_KEY)
    return None


def debiased_preference(first_as_a: Mapping[str, float], first_as_b: Mapping[str, float]) -> float:
    """Probability that the first agent is better, with a constant position preference cancelled."""
    for_first = first_as_a["A"] + first_as_b["B"]
    for_second = first_as_a["B"] + first_as_b["A"]
    total = for_first + for_second
    return 0.5 if total <= 0 else for_first / total


def outcome(preference: float, margin: float) -> float:
    """The first agent's score: 1 (win), 0 (loss) or 0.5 (tie, within ``margin`` of 0.5)."""
    if margin < 0 or margin >= 0.5:
        raise ValueError(f"the tie margin must lie in [0, 0.5), got {margin}")
    if abs(preference - 0.5) <= margin:
        return 0.5
    return 1.0 if preference > 0.5 else 0.0
