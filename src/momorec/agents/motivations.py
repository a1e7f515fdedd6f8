"""From the arena's winner to motivations: per pair (the top agent's), per item, and their agreement with truth."""

from __future__ import annotations

from typing import Any

import pandas as pd

from momorec.agents.analysis import STATUS_FAILED, STATUS_OK

PAIR_MOTIVATION_COLUMNS = ["item_a", "item_b", "support", "motivation", "agent", "status"]


def top_agent(leaderboard: pd.DataFrame) -> str:
    """The leaderboard's first agent."""
    return str(leaderboard["agent"].iloc[0])


def pairs_not_answered(pairs: pd.DataFrame, answers: pd.DataFrame, agent: str) -> pd.DataFrame:
    """The rows of ``pairs`` that ``agent`` has no answer row for."""
    answered = answers.loc[answers["agent"] == agent, ["item_a", "item_b"]]
    done = pd.MultiIndex.from_frame(answered)
    return pairs[~pd.MultiIndex.from_frame(pairs[["item_a", "item_b"]]).isin(done)]


def pair_motivations(answers: pd.DataFrame, pairs: pd.DataFrame, agent: str) -> pd.DataFrame:
    """``agent``'s motivation (and status) for every pair, in pair order (``PAIR_MOTIVATION_COLUMNS``)."""
    chosen = answers.loc[answers["agent"] == agent, ["item_a", "item_b", "motivation", "status"]]
    merged = pairs[["item_a", "item_b", "support"]].merge(chosen, on=["item_a", "item_b"], how="left")
    merged["agent"] = agent
    # A pair the agent has no row for was never answered: a failure, not a silent gap.
    merged["status"] = merged["status"].fillna(STATUS_FAILED)
    return merged[PAIR_MOTIVATION_COLUMNS].astype(
        {"item_a": "int32", "item_b": "int32", "support": "int64", "motivation": "string", "agent": "string",
         "status": "string"}
    )  # fmt: skip


def item_motivations(pair_motivations: pd.DataFrame) -> pd.DataFrame:
    """Each item's motivations from the pairs it belongs to, with the number of pairs giving each."""
    ok = pair_motivations[pair_motivations["status"] == STATUS_OK]
    both = pd.concat(
        [ok[["item_a", "motivation"]].rename(columns={"item_a": "item_idx"}),
         ok[["item_b", "motivation"]].rename(columns={"item_b": "item_idx"})],
        ignore_index=True,
    )  # fmt: skip
    counted = (
        both.groupby(["item_idx", "motivation"], as_index=False).size().rename(columns={"size": "support"})
    )
    counted = counted.sort_values(
        ["item_idx", "support", "motivation"], ascending=[True, False, True], kind="stable"
    )
    return counted.reset_index(drop=True).astype(
        {"item_idx": "int32", "motivation": "string", "support": "int64"}
    )


def motivation_agreement(
    pair_motivations: pd.DataFrame, items: pd.DataFrame, item_true_motivations: pd.DataFrame
) -> dict[str, Any]:
    """How often the two items of a pair with a generated motivation share a ground-truth motivation.

    Only meaningful on the built-in shop (elsewhere the ground truth is empty and the numbers are ``None``).
    ``text_names_shared_truth`` is a crude check of the text itself: the fraction of those sharing pairs whose
    generated motivation contains a content word of a shared true motivation's name.
    """
    ok = pair_motivations[pair_motivations["status"] == STATUS_OK]
    report: dict[str, Any] = {
        "pairs_selected": int(len(pair_motivations)),
        "pairs_with_motivation": int(len(ok)),
        "status_counts": {str(k): int(v) for k, v in pair_motivations["status"].value_counts().items()},
        "fraction_sharing_true_motivation": None,
        "fraction_text_names_shared_truth": None,
    }
    if item_true_motivations.empty or ok.empty:
        return report
    truth = item_true_motivations.merge(items[["item_idx", "item_id"]], on="item_id", how="inner")
    truth = truth[["item_idx", "motivation_id", "motivation"]]
    pairs = ok[["item_a", "item_b", "motivation"]].rename(columns={"motivation": "generated"})
    pairs = pairs.reset_index(drop=True).reset_index(names="pair")
    shared = pairs.merge(truth.rename(columns={"item_idx": "item_a"}), on="item_a").merge(
        truth[["item_idx", "motivation_id"]].rename(columns={"item_idx": "item_b"}),
        on=["item_b", "motivation_id"],
    )
    sharing_pairs = shared["pair"].nunique()
    report["fraction_sharing_true_motivation"] = round(sharing_pairs / len(pairs), 4)
    if sharing_pairs:
        generated_words = shared["generated"].str.lower().str.findall(r"[a-z]{4,}")
        truth_words = shared["motivation"].str.lower().str.findall(r"[a-z]{4,}")
        mentions = [bool(set(g) & set(t)) for g, t in zip(generated_words, truth_words, strict=True)]
        named = shared.assign(named=mentions).groupby("pair")["named"].any()
        report["fraction_text_names_shared_truth"] = round(float(named.mean()), 4)
    report["pairs_sharing_true_motivation"] = int(sharing_pairs)
    return report
