"""Motivation-aware alignment re-ranking (after M-LLM³REC's MOPE / MOTE / MAR), one job per module.

- ``schemas``: the fixed JSON schemas of user motivation profiles and item traits, parsing and validation.
- ``prompts``: every alignment prompt and the stages' cache salts.
- ``llm_setup``: an LLM stage's client, sampling plan and usage record (the calls: ``momorec.llm.structured``,
  which retries with a varied seed, then records a failure, never an invented object).
- ``users``: the evaluated users, their segment and the LLM rating budget.
- ``profiles``: user profiles from each user's training prefix only, with the leakage guard.
- ``traits``: item traits from item text only, for the items that appear as candidates.
- ``similarity``: the cheap alignment score, cosine between profile and trait text embeddings.
- ``compatibility``: the expensive alignment score, an LLM rating of every candidate, under a call budget.
- ``candidates``: the recommender's top-N candidates and the target ranks, through the shared evaluator.
- ``fusion``: score normalisation, fusion with the recommender score and the weight grid on validation users.
- ``evaluation``: re-ranked target ranks, the shared metrics per segment, LLM cost per 1,000 users.
"""
