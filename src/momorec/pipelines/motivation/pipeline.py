"""Wiring of the motivation stage (read top to bottom like the method's figure):

pairs → the LLM estimate (a dry run ends after it) → analysis agents on the arena pairs → judges (LLM in both orders; grounding) → Bradley–Terry
leaderboards → top agent on every pair → motivations per pair and per item → usage, quality and judge-accuracy
reports.
"""

from kedro.pipeline import Node, Pipeline

from momorec.pipelines.motivation.nodes import (
    aggregate_item_motivations,
    compare_arena,
    estimate_llm_calls,
    evaluate_judges,
    evaluate_motivation_agreement,
    generate_top_agent_motivations,
    judge_arena,
    rank_agents,
    run_arena_agents,
    score_arena_grounding,
    select_motivation_pairs,
    select_pair_motivations,
    summarise_llm_usage,
)


def _arena_nodes() -> list[Node]:
    return [
        Node(
            select_motivation_pairs,
            inputs=[
                "copurchase_pairs",
                "items",
                "params:motivation.max_pairs",
                "params:motivation.max_pairs_share",
            ],
            outputs="motivation_pairs",
            name="select_motivation_pairs",
        ),
        Node(
            estimate_llm_calls,
            inputs=[
                "motivation_pairs",
                "items",
                "interactions",
                "llm_cache",
                "params:motivation",
                "params:data_engineering",
            ],
            outputs="llm_estimate",
            name="estimate_llm_calls",
        ),
        Node(
            run_arena_agents,
            inputs=["motivation_pairs", "llm_estimate", "llm_cache", "params:motivation"],
            outputs=["arena_answers", "arena_llm_usage"],
            name="run_arena_agents",
        ),
        Node(
            judge_arena,
            inputs=["arena_answers", "motivation_pairs", "llm_cache", "params:motivation"],
            outputs=["arena_judgments", "judge_llm_usage"],
            name="judge_arena",
        ),
        Node(
            score_arena_grounding,
            inputs=["arena_answers", "motivation_pairs", "params:motivation"],
            outputs="arena_grounding",
            name="score_arena_grounding",
        ),
        Node(
            compare_arena,
            inputs=["arena_judgments", "arena_grounding", "params:motivation"],
            outputs="arena_comparisons",
            name="compare_arena",
        ),
        Node(
            rank_agents,
            inputs=["arena_comparisons", "arena_answers", "params:motivation"],
            outputs=["agent_leaderboard", "arena_leaderboards"],
            name="rank_agents",
        ),
    ]


def _motivation_nodes() -> list[Node]:
    return [
        Node(
            generate_top_agent_motivations,
            inputs=[
                "motivation_pairs",
                "arena_answers",
                "agent_leaderboard",
                "llm_cache",
                "params:motivation",
            ],
            outputs=["agent_answers", "top_agent_llm_usage"],
            name="generate_top_agent_motivations",
        ),
        Node(
            select_pair_motivations,
            inputs=["agent_answers", "motivation_pairs", "agent_leaderboard"],
            outputs="pair_motivations",
            name="select_pair_motivations",
        ),
        Node(
            aggregate_item_motivations,
            inputs="pair_motivations",
            outputs="item_motivations",
            name="aggregate_item_motivations",
        ),
    ]


def _report_nodes() -> list[Node]:
    return [
        Node(
            summarise_llm_usage,
            inputs=["arena_llm_usage", "judge_llm_usage", "top_agent_llm_usage"],
            outputs=["llm_usage", "llm_usage_metrics"],
            name="summarise_llm_usage",
        ),
        Node(
            evaluate_motivation_agreement,
            inputs=["pair_motivations", "items", "item_true_motivations"],
            outputs="motivation_quality",
            name="evaluate_motivation_agreement",
        ),
        Node(
            evaluate_judges,
            inputs=[
                "arena_answers",
                "arena_judgments",
                "arena_comparisons",
                "arena_leaderboards",
                "motivation_pairs",
                "items",
                "item_true_motivations",
                "params:motivation",
            ],
            outputs=["judge_accuracy", "oracle_leaderboard", "judge_accuracy_metrics"],
            name="evaluate_judges",
        ),
    ]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([*_arena_nodes(), *_motivation_nodes(), *_report_nodes()])
