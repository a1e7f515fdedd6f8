"""The registered model is chosen on validation data and is never a canary or an oracle variant."""

from __future__ import annotations

import pytest
import torch

from momorec.models import variants
from momorec.models.registry import select_best_model


def _outcome(variant: str, valid: list[float], is_canary: bool = False) -> dict:
    return {
        "variant": variant,
        "is_canary": is_canary,
        "skipped": False,
        "valid_ndcg_at_10": dict(enumerate(valid)),
        "best_seed": max(range(len(valid)), key=valid.__getitem__),
        "best_model": torch.nn.Linear(1, 1),
    }


def test_flagged_variants_never_win_even_when_their_outcome_is_not_marked(monkeypatch):
    monkeypatch.setitem(
        variants.VARIANT_SPECS, "oracle_x", {"model": "momorec", "input": "x", "oracle": True}
    )
    assert variants.evaluation_only("leak_canary") and variants.evaluation_only("oracle_x")
    assert variants.evaluation_only("momorec_oracle")
    assert not variants.evaluation_only("momorec_adaptor") and not variants.evaluation_only("sasrec")
    _, summary = select_best_model(
        _outcome("sasrec", [0.20, 0.22]),
        _outcome("momorec_adaptor", [0.25, 0.21]),
        # Far better on validation, but flagged in VARIANT_SPECS: a stale outcome without is_canary.
        _outcome("leak_canary", [0.9, 0.9], is_canary=False),
        _outcome("oracle_x", [0.8, 0.8]),
        _outcome("momorec_oracle", [0.95, 0.95]),  # the ground-truth IDs: best of all, never registered
    )
    assert summary["variant"] == "momorec_adaptor" and summary["seed"] == 0
    assert summary["mean_valid_ndcg_at_10"] == pytest.approx(0.23)


def test_only_evaluation_only_variants_is_an_error(monkeypatch):
    monkeypatch.setitem(
        variants.VARIANT_SPECS, "oracle_x", {"model": "momorec", "input": "x", "oracle": True}
    )
    with pytest.raises(ValueError, match="non-canary, non-oracle"):
        select_best_model(
            _outcome("leak_canary", [0.9], is_canary=True),
            _outcome("oracle_x", [0.8]),
            _outcome("momorec_oracle", [0.85]),
        )
