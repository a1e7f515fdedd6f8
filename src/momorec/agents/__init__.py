"""The agents of the motivation stage: prompts, parsing and the arena (HTTP lives in ``momorec.llm``).

- ``prompts``: every prompt the project sends, in its own words, with their version salt.
- ``parsing``: strict parsers of summaries and verdicts, and the generic-motivation filter.
- ``analysis``: the analysis agent (generation module + summary module).
- ``judge``: the judgment agent (pairwise comparisons in both orders).
- ``preference``: verdict probabilities in both orders → a position-debiased preference.
- ``grounding_judge``: a judge without generation (embedding fit of a motivation to both items).
- ``elo`` and ``bradley_terry``: ratings (ELO; Bradley–Terry with confidence intervals) from comparisons.
- ``judge_accuracy``: evaluation only — the judges against the shop's ground truth, and position bias.
- ``pairs``: the co-purchase pairs the agents are asked about.
- ``arena``: the agents on the arena pairs, the judge's comparisons and the leaderboard.
- ``motivations``: the top agent's motivations per pair and per item, and their agreement with the truth.

Structured calls (summaries, verdicts) go through ``momorec.llm.structured``: one sampling plan, one retry loop.
"""
