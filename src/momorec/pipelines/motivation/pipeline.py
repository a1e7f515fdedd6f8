"""Wiring of the motivation stage (read top to bottom like the method's figure):

pairs → analysis agents on the arena pairs → judge (both orders) → ELO leaderboard → top agent on every
pair → motivations per pair and per item → usage and quality reports.
"""

from kedro.pipeline import Node, Pipeline

from momorec.pipelines.motivation.nodes import (
    aggregate_item_motivations,
    evaluate_motivation_agreement,
    generate_top_agent_motivations,
    judge_arena,
    rank_agents,
    run_arena_agents,
    select_motivation_pairs,
    select_pair_motivations,
    summarise_llm_usage,
)


def _arena_nodes() -> list[Node]:
    return [
        Node(
            select_motivation_pairs,
            inputs=["copurchase_pairs", "items", "params:motivation.max_pairs"],
            outputs="motivation_pairs",
            name="select_motivation_pairs",
        ),
        Node(
            run_arena_agents,
            inputs=["motivation_pairs", "llm_cache", "params:motivation"],
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
            rank_agents,
            inputs=["arena_judgments", "arena_answers", "params:motivation"],
            outputs="agent_leaderboard",
            name="rank_agents_by_elo",
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
    ]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([*_arena_nodes(), *_motivation_nodes(), *_report_nodes()])
