"""The motivation stage's LLM settings, read once from ``params:motivation``, and its three LLM steps.

A node parses its parameters into :class:`MotivationSettings` and hands it here: the agents on pairs, the
judge on the arena (with the judge-mode branching: the LLM judge is asked only when a configured judge reads
its verdicts) and the judge-accuracy metrics table. Every setting is checked while parsing, with its full
key in the error (``momorec.llm.params``), so a wrong value stops the run before a request is made.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from momorec.agents import arena
from momorec.agents.analysis import AnalysisSettings
from momorec.agents.arena import AgentSpec, arena_agents
from momorec.agents.judge import JudgeSettings, run_judge
from momorec.llm.cache import LLMCache
from momorec.llm.params import require_mapping, typed_value
from momorec.llm.session import open_clients
from momorec.llm.settings import LLMSettings
from momorec.llm.tokens import with_titles_cut
from momorec.llm.usage import UsageRecorder

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MotivationSettings:
    """What the motivation stage's LLM calls need: endpoints, agents, both modules' sampling, the judges."""

    llm: LLMSettings
    agents: tuple[AgentSpec, ...]
    analysis: AnalysisSettings
    judge: JudgeSettings
    judge_model: str
    # The judges that run (``arena.configured_judges``): "llm" among them means the LLM judge is asked.
    judges: tuple[str, ...]
    arena_pairs: int
    max_title_tokens: int | None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> MotivationSettings:
        params = require_mapping(params, "motivation")
        judge = require_mapping(params.get("judge"), "motivation.judge")
        return cls(
            llm=LLMSettings.from_params(
                params.get("models"), params.get("client"), params.get("embedded"), "motivation"
            ),
            agents=tuple(arena_agents(params)),
            analysis=AnalysisSettings.from_params(params),
            judge=JudgeSettings.from_params(params),
            judge_model=str(typed_value(judge.get("model"), "str", "motivation.judge.model")),
            judges=arena.configured_judges(judge),
            arena_pairs=typed_value(params.get("arena_pairs"), "int", "motivation.arena_pairs"),
            max_title_tokens=typed_value(
                params.get("max_title_tokens"), "int | None", "motivation.max_title_tokens"
            ),
        )

    @property
    def asks_llm_judge(self) -> bool:
        return "llm" in self.judges

    def agent_names(self) -> list[str]:
        return [agent.name for agent in self.agents]

    def called_models(self) -> list[str]:
        """The models this stage calls: every agent's, and the judge's when the LLM judge is asked."""
        models = [agent.model for agent in self.agents]
        return [*models, self.judge_model] if self.asks_llm_judge else models

    def check(self) -> None:
        """Every called model is configured and has its key (raised before the run, see ``momorec.hooks``)."""
        self.llm.check_api_keys(self.called_models())


def titles_cut(pairs: pd.DataFrame, max_tokens: int | None) -> pd.DataFrame:
    """``pairs`` with both titles cut to ``max_tokens``: titles of any length would overflow the context."""
    return with_titles_cut(with_titles_cut(pairs, max_tokens, "title_a"), max_tokens, "title_b")


def run_agents_on_pairs(
    pairs: pd.DataFrame,
    agents: Sequence[AgentSpec],
    settings: MotivationSettings,
    cache: LLMCache | None,
    usage: UsageRecorder,
) -> pd.DataFrame:
    """Every agent's answer and summary for every pair, with the clients open for these calls only."""
    with open_clients([agent.model for agent in agents], settings.llm, cache, usage) as clients:
        return arena.run_agents(
            titles_cut(pairs, settings.max_title_tokens), agents, clients, settings.analysis
        )


def judge_arena_pairs(
    arena_answers: pd.DataFrame,
    pairs: pd.DataFrame,
    settings: MotivationSettings,
    cache: LLMCache | None,
    usage: UsageRecorder,
) -> pd.DataFrame:
    """The judgment table of the arena pairs: walkovers without a call, the LLM judge's verdicts in both
    orders where it is asked, and rows saying it was not asked otherwise."""
    rows, comparisons, to_judge = arena.arena_comparisons(
        titles_cut(pairs, settings.max_title_tokens), arena_answers, settings.agent_names()
    )
    if not settings.asks_llm_judge:
        logger.info("LLM judge not asked: motivation.judge.mode is grounding (also_ask_llm: true asks it)")
        return arena.judgments_table(rows, to_judge, None)
    judged = []
    if comparisons:
        logprobs = settings.judge.top_logprobs is not None
        with open_clients([settings.judge_model], settings.llm, cache, usage, logprobs) as clients:
            judged = run_judge(clients[settings.judge_model], comparisons, settings.judge)
    return arena.judgments_table(rows, to_judge, judged)


def judge_accuracy_metrics(report: Mapping[str, Any]) -> dict[str, Any]:
    """The judge-accuracy report as flat metric values: each judge's numbers, its agreement interval as two
    values, and the position bias."""
    values: dict[str, Any] = {}
    for name, numbers in report["judges"].items():
        values.update({f"{name}.{key}": value for key, value in numbers.items()})
        low, high = numbers["agreement_ci"]
        values.update({f"{name}.agreement_ci_low": low, f"{name}.agreement_ci_high": high})
    values.update({f"position_bias.{key}": value for key, value in report["position_bias"].items()})
    return values
