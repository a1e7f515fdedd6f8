"""Report content of the agent arena: every judge's leaderboard, judge accuracy and the position bias.

Used by the builders ``arena_leaderboards`` and ``judge_accuracy`` of ``momorec.reporting.sections``; each
function returns a section's (text, tables, figures), or ``None`` when the value is not what it presents
(the section then shows it as a plain table).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from momorec.reporting import tables

Parts = tuple[str, list[tuple[str, pd.DataFrame]], dict[str, Figure]]

LEADERBOARD_TEXT = (
    "Rating: Bradley–Terry fit on the ELO scale (order-free) with its confidence interval from the Fisher "
    "information; `elo`: sequential ELO of the same games. Mode: `logprobs` = position-debiased verdict "
    "probabilities of both orders; `verdicts` = parsed verdicts (the endpoint returned no log-probabilities); "
    "`grounding` = how well the motivation's embedding fits both items, no generation; `combined` = the mean "
    "of the two preferences. `motivation.judge.mode` picks the judge whose top agent writes every motivation."
)


def leaderboard_parts(value: Any) -> Parts | None:
    """One table per judge, in the order the arena reports them."""
    if not isinstance(value, pd.DataFrame) or "judge" not in value or value.empty:
        return None
    boards = [
        (f"Judge `{judge}` (mode: {board['mode'].iloc[0]})", board.drop(columns=["judge", "mode"]))
        for judge, board in value.groupby("judge", sort=False)
    ]
    return LEADERBOARD_TEXT, boards, {}


def plot_position_bias(bias: dict[str, Any]) -> Figure:
    """Share of "A" verdicts (and mean P(A) where known) with agent_a shown as label A, then as label B."""
    orders = ["agent_a shown as A", "agent_a shown as B"]
    shares = [bias.get("share_a_order1") or 0.0, bias.get("share_a_order2") or 0.0]
    probabilities = [bias.get("mean_p_a_order1"), bias.get("mean_p_a_order2")]
    figure = Figure(figsize=(6, 3.2))
    axis = figure.subplots()
    axis.bar([-0.2, 0.8], shares, width=0.4, label='share of "A" verdicts', color="#4C72B0")
    if all(p is not None for p in probabilities):
        axis.bar([0.2, 1.2], probabilities, width=0.4, label="mean P(A)", color="#DD8452")
    axis.axhline(0.5, color="grey", linestyle="--", linewidth=1)
    axis.set_xticks([0, 1], orders)
    axis.set_ylim(0, 1)
    axis.set_title("LLM judge position bias before debiasing")
    axis.legend(loc="lower right")
    figure.tight_layout()
    return figure


def judge_accuracy_parts(value: Any) -> Parts | None:
    """Agreement of each judge with the oracle (with intervals), and the position bias table and figure."""
    if not isinstance(value, dict) or "judges" not in value:
        return None
    rows = [
        {"judge": judge, **{k: v for k, v in numbers.items() if k != "agreement_ci"},
         "ci_low": numbers["agreement_ci"][0], "ci_high": numbers["agreement_ci"][1]}
        for judge, numbers in value["judges"].items()
    ]  # fmt: skip
    text = (
        "Evaluation only: the method never reads the ground truth. The oracle prefers the agent whose "
        "motivation is closer to both items' true motivations; a judge scores 1 when it prefers that agent, "
        "0.5 when it ties, 0 otherwise (0.5 = chance), with a bootstrap interval over comparisons; Kendall's "
        f"tau compares the rankings. Top agent chosen by the `{value.get('mode')}` judge; the oracle's top "
        f"agent: `{value.get('oracle_top_agent', 'n/a')}`."
    )
    parts = [("Judge–oracle agreement", pd.DataFrame(rows))]
    figures = {}
    bias = value.get("position_bias") or {}
    if bias.get("verdicts_order1") or bias.get("verdicts_order2"):  # only when the LLM judge was asked
        parts.append(("Position bias of the LLM judge before debiasing", tables.as_frame(bias)))
        figures["judge_position_bias"] = plot_position_bias(bias)
    return text, parts, figures
