"""Every prompt of the alignment pipeline (profiles, traits, compatibility ratings) and their cache salt.

Change ``PROMPT_SALT`` when a prompt changes meaning without changing its text, so the LLM cache does not
serve answers to the old meaning (a changed text is a new cache key anyway).
"""

from __future__ import annotations

from momorec.alignment.schemas import PROFILE_SCHEMA, TRAIT_SCHEMA, schema_example

PROMPT_SALT = "alignment-v2"

PROFILE_SYSTEM = (
    "You study shoppers for a recommender system. Reply with a single JSON object and nothing else: "
    "short phrases of a few words, no product names."
)
PROFILE_INSTRUCTION = (
    "A shopper bought these products, oldest first:\n{history}\n\n"
    "Summarise what drives this shopper as a JSON object with exactly these keys:\n{schema}\n"
    "Every phrase must be supported by the products above. Use an empty list where the purchases say "
    'nothing, and "unknown" for price sensitivity when prices give no hint.\n'
    "Shape only, not content: {example}"
)

TRAIT_SYSTEM = (
    "You describe products for a recommender system. Reply with a single JSON object and nothing else: "
    "short phrases of a few words."
)
TRAIT_INSTRUCTION = (
    "Product: {item}\n\n"
    "Describe what this product offers a buyer as a JSON object with exactly these keys:\n{schema}\n"
    'Stay with what the product text supports; use an empty list where it says nothing, and "unknown" '
    "for the price tier when there is no price hint.\n"
    "Shape only, not content: {example}"
)

COMPATIBILITY_SYSTEM = (
    "You judge product fit for a recommender system. Reply with a single JSON object and nothing else."
)
COMPATIBILITY_INSTRUCTION = (
    "Shopper profile: {profile}\n\nCandidate products:\n{candidates}\n\n"
    "For each candidate, rate from 0 (no fit) to 10 (ideal fit) how well it matches this shopper's "
    'motivations. Reply as {{"scores": [...]}} with exactly {n} numbers, in the order of the list.'
)


# The cache salt of each LLM stage (keyed like ``params:alignment``); part of every request's cache key.
STAGE_SALTS = {
    "profiles": f"{PROMPT_SALT}|profile",
    "traits": f"{PROMPT_SALT}|traits",
    "compatibility": f"{PROMPT_SALT}|compatibility",
}


def _chat(system: str, user: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def profile_messages(history: str) -> list[dict[str, str]]:
    """The profile request for a shopper whose purchases are listed in ``history``."""
    schema, example = PROFILE_SCHEMA.describe_for_prompt(), schema_example(PROFILE_SCHEMA)
    return _chat(PROFILE_SYSTEM, PROFILE_INSTRUCTION.format(history=history, schema=schema, example=example))


def trait_messages(item: str) -> list[dict[str, str]]:
    """The trait request for one product line."""
    schema, example = TRAIT_SCHEMA.describe_for_prompt(), schema_example(TRAIT_SCHEMA)
    return _chat(TRAIT_SYSTEM, TRAIT_INSTRUCTION.format(item=item, schema=schema, example=example))


def compatibility_messages(profile: str, candidates: str, n_candidates: int) -> list[dict[str, str]]:
    """The rating request for one shopper's numbered candidate list."""
    return _chat(
        COMPATIBILITY_SYSTEM,
        COMPATIBILITY_INSTRUCTION.format(profile=profile, candidates=candidates, n=n_candidates),
    )
