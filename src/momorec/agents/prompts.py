"""Every prompt of the motivation stage, written for this project.

Generation prompts are *variants*: an agent is a (variant, model) combination chosen in
``conf/base/parameters_motivation.yml``. Change ``PROMPT_VERSION`` when a prompt's meaning changes, so the
LLM cache does not serve answers to the old wording.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    ),
}


# The summary continues the generation's conversation: the model condenses its own analysis, and a server
# that has just answered the generation re-reads only this instruction (its cached prompt holds the rest).
# A constrained decoder (motivation.constrained) holds the answer to the JSON form, so no worked example is
# shown; one would sit between the analysis and the instruction and break that reuse.
SUMMARY_INSTRUCTION = (
    "Now condense your analysis into a label, in your own words: the purpose these two products share for "
    "this customer, as a short phrase of at most {max_words} words that names the concrete activity or "
    "situation, not a vague need and not the product names. "
    'Answer as JSON: {{"motivation": "<phrase>"}}'
)


def summary_messages(
    generation_messages: Sequence[dict[str, str]], answer: str, max_words: int
) -> list[dict[str, str]]:
    """The generation's conversation, its answer, and the instruction to condense it into a motivation."""
    return [
        *generation_messages,
        {"role": "assistant", "content": answer.strip()},
        {"role": "user", "content": SUMMARY_INSTRUCTION.format(max_words=max_words)},
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
