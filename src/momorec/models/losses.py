"""Sampled softmax for large catalogues, and the choice between it and the full softmax.

The full softmax cross-entropy costs positions x items per step; with a 100k-item catalogue that is most of
an epoch on a CPU. ``sampled_ce`` scores the target against N negatives shared by the whole batch (drawn
uniformly or by training popularity), as gSASRec and eSASRec train SASRec. Each negative's logit is
corrected by ``-log(N q_j)`` (the log-Q correction): the sum over the sample of ``exp(s_j) / (N q_j)`` is an
unbiased estimate of the sum of ``exp(s_j)`` over the catalogue, so the loss estimates the full softmax CE
whatever the sampling distribution. The target keeps its plain logit and negatives equal to the target
("accidental hits") are removed. With every item as a negative under uniform sampling (``N q_j = 1``) the
loss is exactly the full CE. Evaluation always ranks the full catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

SAMPLINGS = ("uniform", "popularity")


@dataclass(frozen=True)
class SampledSoftmaxSettings:
    """``params:recommender.training.sampled_ce``: negatives per batch, how they are drawn, when to use it."""

    negatives: int = 1024  # the shipped default (conf/base/parameters_recommender.yml says why)
    sampling: str = "popularity"
    # ``loss: auto`` trains with ``sampled_ce`` when the catalogue has more items than this, else ``ce``.
    above_items: int = 10_000

    def __post_init__(self) -> None:
        if self.negatives < 1:
            raise ValueError(f"training.sampled_ce.negatives must be >= 1, got {self.negatives}")
        if self.sampling not in SAMPLINGS:
            raise ValueError(
                f"training.sampled_ce.sampling must be one of {SAMPLINGS}, got {self.sampling!r}"
            )
        if self.above_items < 0:
            raise ValueError(f"training.sampled_ce.above_items must be >= 0, got {self.above_items}")

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any] | None) -> SampledSoftmaxSettings:
        unknown = set(settings or {}) - {"negatives", "sampling", "above_items"}
        if unknown:
            raise ValueError(f"training.sampled_ce: unknown key(s) {sorted(unknown)}")
        return cls(**dict(settings or {}))


def choose_loss(loss: str, n_items: int, settings: SampledSoftmaxSettings) -> str:
    """The loss to train with: ``auto`` becomes ``sampled_ce`` above ``settings.above_items`` items, else ``ce``."""
    if loss != "auto":
        return loss
    return "sampled_ce" if n_items > settings.above_items else "ce"


class NegativeSampler:
    """Draws the batch's shared negatives (tokens ``1..n_items``) and their log expected counts ``log(N q_j)``.

    ``item_counts`` (training frequency per item, 0-based) weights ``popularity`` sampling; one is added to
    every count so that items never bought in training can still be negatives.
    """

    def __init__(
        self,
        n_items: int,
        settings: SampledSoftmaxSettings,
        item_counts: np.ndarray | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        if n_items < 1:
            raise ValueError(f"NegativeSampler: n_items must be >= 1, got {n_items}")
        self.n_items, self.n_negatives, self.sampling = int(n_items), settings.negatives, settings.sampling
        if self.sampling == "popularity":
            if item_counts is None or len(item_counts) != n_items:
                raise ValueError(f"NegativeSampler: popularity sampling needs {n_items} item counts")
            if np.any(np.asarray(item_counts) < 0):
                raise ValueError("NegativeSampler: item counts must be >= 0")
            weights = torch.as_tensor(np.asarray(item_counts, dtype=np.float64) + 1.0)
            self.probabilities = (weights / weights.sum()).to(device=device, dtype=torch.float32)
            self._log_expected = torch.log(self.n_negatives * self.probabilities)
        else:
            self.probabilities = None
            self._log_expected = torch.full(
                (1,), float(np.log(self.n_negatives / self.n_items)), device=device
            )
        self.device = device

    def sample(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(tokens, log_expected_counts)``, both of shape ``(negatives,)``; drawn with replacement."""
        if self.probabilities is None:
            index = torch.randint(0, self.n_items, (self.n_negatives,), device=self.device)
            return index + 1, self._log_expected.expand(self.n_negatives)
        index = torch.multinomial(self.probabilities, self.n_negatives, replacement=True)
        return index + 1, self._log_expected[index]


def sampled_softmax_loss(
    hidden: torch.Tensor,
    targets: torch.Tensor,
    item_table: torch.Tensor,
    negatives: torch.Tensor,
    log_expected_counts: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean CE of each target against the shared ``negatives`` (log-Q corrected, accidental hits removed).

    Args:
        hidden: (positions, hidden) sequence states at non-padded positions.
        targets: (positions,) target tokens (item_idx + 1).
        item_table: (n_items + 1, hidden) item representations, row 0 padding.
        negatives: (N,) negative tokens shared by every position.
        log_expected_counts: (N,) ``log(N q_j)`` of each negative; None = no correction.
    """
    if hidden.ndim != 2 or targets.shape != hidden.shape[:1] or negatives.ndim != 1:
        raise ValueError(
            f"sampled_softmax_loss: hidden {tuple(hidden.shape)}, targets {tuple(targets.shape)}, "
            f"negatives {tuple(negatives.shape)}; expected (P, d), (P,), (N,)"
        )
    positive_logit = (hidden * item_table[targets]).sum(-1, keepdim=True)
    negative_logit = hidden @ item_table[negatives].T
    if log_expected_counts is not None:
        negative_logit = negative_logit - log_expected_counts[None, :]
    negative_logit = negative_logit.masked_fill(negatives[None, :] == targets[:, None], float("-inf"))
    # -log softmax of the target among [target, negatives], without concatenating a (P, N + 1) copy.
    positive_logit = positive_logit[:, 0]
    return (torch.logaddexp(positive_logit, torch.logsumexp(negative_logit, dim=1)) - positive_logit).mean()
