"""The agents of the motivation stage: prompts and parsing only (HTTP lives in ``momorec.llm``).

- ``prompts``: every prompt the project sends, in its own words, with their version salt.
- ``parsing``: strict parsers of summaries and verdicts, and the generic-motivation filter.
- ``analysis``: the analysis agent (generation module + summary module).
- ``judge``: the judgment agent (pairwise comparisons in both orders).
- ``elo``: the ELO arena that turns verdicts into a leaderboard.
"""
