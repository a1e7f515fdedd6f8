"""Every prompt of the motivation stage, written for this project.

Generation prompts are *variants*: an agent is a (variant, model) combination chosen in
``conf/base/parameters_motivation.yml``. Change ``PROMPT_VERSION`` when a prompt's meaning changes, so the
LLM cache does not serve answers to the old wording.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PROMPT_VERSION = "motivation-prompts-v1"


def motivation_salt(params: Mapping[str, Any]) -> str:
    """The cache salt of every motivation request: the prompt version and ``motivation.cache_salt``."""
    return f"{PROMPT_VERSION}/{params.get('cache_salt', '')}"


@dataclass(frozen=True)
class ItemText:
    """What an agent is told about one product."""

    title: str
    category: str

    def line(self) -> str:
        return f"{self.title} (category: {self.category})" if self.category else self.title


@dataclass(frozen=True)
class GenerationPrompt:
    """One way of asking for the shared purchase motivation of two products, with reasoning."""

    name: str
    system: str
    user_template: str
    # The same question for ``motivation.analysis: direct`` (one constrained call per pair, no reasoning).
    direct_question: str = ""

    def messages(self, first: ItemText, second: ItemText) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": self.system},
            {"role": "user", "content": self.user_template.format(first=first.line(), second=second.line())},
        ]


GENERATION_PROMPTS: dict[str, GenerationPrompt] = {
    # Variant 1: a retail analyst names a goal and backs it with product details.
    "goal_analyst": GenerationPrompt(
        name="goal_analyst",
        system="You are a retail analyst. You explain which personal goal leads people to buy certain products together.",
        user_template=(
            "One customer bought these two products, one shortly after the other:\n"
            "1. {first}\n"
            "2. {second}\n\n"
            "Which goal, project or life situation most likely made this customer buy both? Name it first, then "
            "justify it in two or three sentences using concrete details of the products (what they are used "
            "for, their design, price level or brand)."
        ),
        direct_question="Which goal, project or life situation most likely made one customer buy both products?",
    ),
    # Variant 2: imagine the customer's situation, then state the common purpose on a final line.
    "basket_story": GenerationPrompt(
        name="basket_story",
        system="You picture the everyday situation behind a shopping basket and describe it plainly.",
        user_template=(
            "These two products ended up in the same customer's basket:\n"
            "- {first}\n"
            "- {second}\n\n"
            "Describe in a few sentences what this person is doing or preparing for, and how each product helps "
            "with it. Finish with one line that starts with 'Purpose:' and names the purpose the two products share."
        ),
        direct_question="What is the customer who put both products in one basket doing or preparing for?",
    ),
    # Variant 3: first where and when both products are used, then the goal that context serves.
    "use_context": GenerationPrompt(
        name="use_context",
        system="You explain purchases by the place and moment in which the products are used together.",
        user_template=(
            "A customer bought these two products together:\n"
            "1. {first}\n"
            "2. {second}\n\n"
            "First say where and when both products are used (the shared use context), in one sentence. Then "
            "name the goal or activity that this context serves for the customer, and say in one sentence how "
            "each product contributes to it."
        ),
        direct_question="Where and when are both products used together, and which activity does that serve?",
    ),
}


SUMMARY_SYSTEM = (
    "You turn a shopping analysis into a short label of the customer's purpose. You never copy sentences from "
    "the analysis. You answer with one JSON object and nothing else."
)
SUMMARY_TEMPLATE = (
    "Products: {first} + {second}\n"
    'Analysis: """{answer}"""\n\n'
    "Give the purpose these two products share for this customer as a short phrase of at most {max_words} "
    "words that names the concrete activity or situation, not a vague need. "
    'Answer as JSON: {{"motivation": "<phrase>"}}'
)
# One worked example (an unrelated hobby) shows a small model the expected length and form.
SUMMARY_EXAMPLE_ANSWER = (
    "The customer bought a beginner's watercolour paint set and a pad of cold-press paper. Both are entry-level "
    "supplies that someone needs when they have just started painting and want affordable materials to practise "
    "with, so the two purchases serve the same new pastime."
)
SUMMARY_EXAMPLE_PRODUCTS = (
    "Studio watercolour paint set, 24 half pans",
    "Cold-press watercolour paper pad, A4",
)
SUMMARY_EXAMPLE_MOTIVATION = "taking up watercolour painting as a new hobby"
SUMMARY_EXAMPLE_REPLY = json.dumps({"motivation": SUMMARY_EXAMPLE_MOTIVATION})


def summary_messages(first: ItemText, second: ItemText, answer: str, max_words: int) -> list[dict[str, str]]:
    example = SUMMARY_TEMPLATE.format(
        first=SUMMARY_EXAMPLE_PRODUCTS[0],
        second=SUMMARY_EXAMPLE_PRODUCTS[1],
        answer=SUMMARY_EXAMPLE_ANSWER,
        max_words=max_words,
    )
    actual = SUMMARY_TEMPLATE.format(
        first=first.title, second=second.title, answer=answer.strip(), max_words=max_words
    )
    return [
        {"role": "system", "content": SUMMARY_SYSTEM},
        {"role": "user", "content": example},
        {"role": "assistant", "content": SUMMARY_EXAMPLE_REPLY},
        {"role": "user", "content": actual},
    ]


JUDGE_SYSTEM = (
    "You review labels that explain why a customer bought two products. You are strict and answer with one "
    "JSON object and nothing else."
)
JUDGE_TEMPLATE = (
    "Products bought together:\n1. {first}\n2. {second}\n\n"
    'Label A: "{label_a}"\nReasoning A: {reasoning_a}\n\n'
    'Label B: "{label_b}"\nReasoning B: {reasoning_b}\n\n'
    "Judge the two labels on two criteria. Relevance: does the label fit what both products are actually used "
    "for? Depth: does it show understanding of the specific products (features, design, price, brand) rather "
    "than a generic need? Then pick the better label overall.\n"
    'Answer as JSON: {{"winner": "A" or "B" or "tie", "relevance": "A" or "B" or "tie", "depth": "A" or "B" or "tie"}}'
)


def judge_messages(
    first: ItemText,
    second: ItemText,
    label_a: str,
    reasoning_a: str,
    label_b: str,
    reasoning_b: str,
) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": JUDGE_SYSTEM},
        {
            "role": "user",
            "content": JUDGE_TEMPLATE.format(
                first=first.line(),
                second=second.line(),
                label_a=label_a,
                reasoning_a=reasoning_a,
                label_b=label_b,
                reasoning_b=reasoning_b,
            ),
        },
    ]


# ``motivation.analysis: direct``: one constrained call per pair instead of a generation and its summary. The
# fixed instruction and the worked example come before the products, so every request of one agent shares
# all but its last ~40-60 tokens with the previous one and llama.cpp re-reads only the product lines.
DIRECT_SYSTEM_SUFFIX = "You answer with one JSON object and nothing else."
DIRECT_TEMPLATE = (
    "{question} Give the purpose the two products share for this customer as a short phrase of at most "
    "{max_words} words that names the concrete activity or situation, not a vague need. "
    'Answer as JSON: {{"motivation": "<phrase>"}}\n\n'
    "Products bought together:\n1. {first}\n2. {second}"
)
DIRECT_EXAMPLE_ITEMS = (
    ItemText(SUMMARY_EXAMPLE_PRODUCTS[0], "Arts & Crafts > Painting > Watercolour Paints"),
    ItemText(SUMMARY_EXAMPLE_PRODUCTS[1], "Arts & Crafts > Painting > Watercolour Paper"),
)


def direct_messages(
    prompt: GenerationPrompt, first: ItemText, second: ItemText, max_words: int
) -> list[dict[str, str]]:
    """The one-call request of ``prompt``'s variant: its question answered as ``{"motivation": ...}``."""
    if not prompt.direct_question:
        raise ValueError(f"generation prompt {prompt.name!r} has no direct_question")

    def ask(a: ItemText, b: ItemText) -> str:
        return DIRECT_TEMPLATE.format(
            question=prompt.direct_question, max_words=max_words, first=a.line(), second=b.line()
        )

    return [
        {"role": "system", "content": f"{prompt.system} {DIRECT_SYSTEM_SUFFIX}"},
        {"role": "user", "content": ask(*DIRECT_EXAMPLE_ITEMS)},
        {"role": "assistant", "content": SUMMARY_EXAMPLE_REPLY},
        {"role": "user", "content": ask(first, second)},
    ]
