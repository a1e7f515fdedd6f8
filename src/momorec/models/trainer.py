"""The training loop shared by every neural variant: batches from training prefixes, early stopping."""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from momorec.data.sequences import UserSequences
from momorec.evaluation.evaluator import evaluate_split
from momorec.evaluation.metrics import ndcg_at_k, recall_at_k
from momorec.evaluation.ranking import ScoreFn
from momorec.models.losses import NegativeSampler, SampledSoftmaxSettings, choose_loss, sampled_softmax_loss
from momorec.models.sasrec import SASRec, item_table_in_chunks

logger = logging.getLogger(__name__)

LOSSES = ("ce", "bce", "sampled_ce", "auto")

BatchHook = Callable[[np.ndarray, np.ndarray, np.ndarray], None]
"""``on_batch(users, inputs, targets)``: called with every training batch as it goes into the model."""


@dataclass
class TrainingConfig:
    """Optimisation and early-stopping settings (from ``params:recommender.training``)."""

    epochs: int = 50
    patience: int = 5
    batch_size: int = 256
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    loss: str = "ce"
    sampled_ce: dict = field(default_factory=dict)  # losses.SampledSoftmaxSettings
    eval_every: int = 1
    eval_chunk_size: int = 2048
    mask_history: bool = True
    seed: int = 0
    device: str = "cpu"
    show_progress: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, Any], seed: int) -> TrainingConfig:
        """From ``params:recommender``: its ``training`` section plus the history masking, scoring chunk and
        device that early stopping shares with the evaluator (the dataclass defaults where absent)."""
        return cls(
            **params["training"],
            mask_history=bool(params.get("mask_history", True)),
            eval_chunk_size=int((params.get("evaluation") or {}).get("chunk_size", cls.eval_chunk_size)),
            seed=seed,
            device=resolve_device((params.get("runtime") or {}).get("device", "cpu")),
        )

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ValueError(f"training.loss must be one of {LOSSES}, got {self.loss!r}")
        if self.epochs < 1 or self.patience < 1 or self.batch_size < 1:
            raise ValueError("training.epochs, training.patience and training.batch_size must be >= 1")


@dataclass
class TrainingResult:
    """Per-epoch curve (loss, validation NDCG@10 / Recall@10, seconds) and the epoch whose weights were kept."""

    history: list[dict] = field(default_factory=list)
    best_epoch: int = -1
    best_valid_ndcg_at_10: float = float("-inf")
    loss: str = ""  # the loss trained with ("auto" resolved)


def resolve_device(name: str) -> str:
    """'auto' -> CUDA when available, else CPU."""
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return name


def model_score_fn(model: SASRec) -> ScoreFn:
    """A scorer for the evaluator: eval mode, the item table computed once (in bounded chunks of items) and
    reused for every chunk of users."""
    model.eval()
    item_table = item_table_in_chunks(model)

    def score(sequences: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return model.score_all(sequences, item_table)

    return score


def sequence_loss(
    model: SASRec,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    loss: str = "ce",
    sampler: NegativeSampler | None = None,
) -> torch.Tensor:
    """Next-item loss at every non-padded position: softmax CE over all items, or BCE with one sampled negative.

    The full softmax scores every item, so it computes the whole item table. The sampled losses compute the
    representations of the step's items only (:class:`StepItemTable`): a step then costs the same whatever the
    catalogue's size. Random draws keep their order (input dropout, then the negatives), so a fusion without
    randomness in its item representations trains exactly as with the whole table.
    """
    if loss == "ce":
        item_table = model.item_representations()
        hidden = model.encode(inputs, item_table)
        present = targets > 0
        logits = model.scoring.query(hidden[present]) @ model.scoring.keys(item_table[1:]).T
        return F.cross_entropy(logits, targets[present] - 1)
    step_table = StepItemTable(model, inputs)
    hidden = model.encode(step_table.input_rows, step_table.table)
    present = targets > 0
    hidden, positive = model.scoring.query(hidden[present]), targets[present]
    if loss == "sampled_ce":
        negatives, log_expected_counts = sampler.sample()
        item_table, rows = step_table.with_items(torch.cat([positive, negatives]))
        positive_rows, negative_rows = rows[: len(positive)], rows[len(positive) :]
        return sampled_softmax_loss(
            hidden, positive_rows, model.scoring.keys(item_table), negative_rows, log_expected_counts
        )
    negative = torch.randint(1, model.n_items + 1, positive.shape, device=positive.device)
    item_table, rows = step_table.with_items(torch.cat([positive, negative]))
    item_table = model.scoring.keys(item_table)
    positive_logit = (hidden * item_table[rows[: len(positive)]]).sum(-1)
    negative_logit = (hidden * item_table[rows[len(positive) :]]).sum(-1)
    return F.binary_cross_entropy_with_logits(
        positive_logit, torch.ones_like(positive_logit)
    ) + F.binary_cross_entropy_with_logits(negative_logit, torch.zeros_like(negative_logit))


class StepItemTable:
    """The item representations one sampled-loss step needs, each item's row computed once per step.

    First the rows of the batch's input items (padding included, as row 0), which the sequence encoder reads;
    then, once the negatives are drawn, the rows of the targets and negatives not among the inputs. Rows are
    addressed by position in this small table, not by token: ``input_rows`` are the inputs rewritten so, and
    padding keeps position 0, so the encoder's padding mask is unchanged.
    """

    def __init__(self, model: SASRec, inputs: torch.Tensor) -> None:
        self.model = model
        padding = torch.zeros(1, dtype=inputs.dtype, device=inputs.device)
        self.ids = torch.unique(torch.cat([padding, inputs.flatten()]))  # sorted: padding first
        self.table = model.item_representations(self.ids)
        self.input_rows = torch.searchsorted(self.ids, inputs)

    def with_items(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The table grown by the rows of ``tokens`` not yet in it, and each token's row in it."""
        wanted = torch.unique(tokens)
        extra = wanted[~torch.isin(wanted, self.ids)]
        ids = torch.cat([self.ids, extra])
        table = torch.cat([self.table, self.model.item_representations(extra)]) if len(extra) else self.table
        sorted_ids, order = ids.sort()
        return table, order[torch.searchsorted(sorted_ids, tokens)]


def fit(
    model: SASRec,
    data: UserSequences,
    config: TrainingConfig,
    on_batch: BatchHook | None = None,
    on_epoch: Callable[[dict], None] | None = None,
) -> TrainingResult:
    """Train on the training prefixes; keep the weights of the best validation NDCG@10 (early stopping).

    ``on_batch(users, inputs, targets)`` sees every batch exactly as it goes into the model (tests use it to
    prove no validation/test item is ever trained on). A model without trainable parameters (most popular)
    has nothing to learn: its validation NDCG@10 is measured once and no epoch is recorded.
    """
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model.to(device)
    result = TrainingResult()
    if not any(parameter.requires_grad for parameter in model.parameters()):
        result.best_valid_ndcg_at_10 = _validation_metrics(model, data, config, device)["valid_ndcg_at_10"]
        model.eval()
        return result
    windows = data.training_windows(model.max_length)
    if len(windows[0]) == 0:
        raise ValueError("no training transitions: every training prefix has fewer than 2 items")
    optimizer = torch.optim.Adam(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    sampled = SampledSoftmaxSettings.from_mapping(config.sampled_ce)
    result.loss = choose_loss(config.loss, model.n_items, sampled)
    sampler = NegativeSampler(model.n_items, sampled, data.item_train_frequency(), device)
    best_state, epochs_without_gain = None, 0
    for epoch in range(config.epochs):
        record = _train_epoch(
            model, optimizer, windows, rng, config, epoch, device, on_batch, (result.loss, sampler)
        )
        if (epoch + 1) % config.eval_every == 0 or epoch + 1 == config.epochs:
            record.update(_validation_metrics(model, data, config, device))
            if record["valid_ndcg_at_10"] > result.best_valid_ndcg_at_10:
                result.best_valid_ndcg_at_10, result.best_epoch = record["valid_ndcg_at_10"], epoch
                best_state, epochs_without_gain = copy.deepcopy(model.state_dict()), 0
            else:
                epochs_without_gain += 1
        result.history.append(record)
        _log_epoch(record)
        if on_epoch is not None:
            on_epoch(record)
        if epochs_without_gain >= config.patience:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return result


def _train_epoch(
    model: SASRec,
    optimizer: torch.optim.Optimizer,
    windows: tuple[np.ndarray, np.ndarray, np.ndarray],
    rng: np.random.Generator,
    config: TrainingConfig,
    epoch: int,
    device: str,
    on_batch: BatchHook | None,
    loss_and_sampler: tuple[str, NegativeSampler | None] = ("ce", None),
) -> dict:
    """One pass over the training windows in a fresh random order: ``{epoch, loss, train_seconds}``."""
    window_users, window_inputs, window_targets = windows
    loss_name, sampler = loss_and_sampler
    model.train()
    started = time.perf_counter()
    order = rng.permutation(len(window_users))
    total, batches = 0.0, 0
    starts = range(0, len(order), config.batch_size)
    for start in tqdm(starts, desc=f"epoch {epoch}", leave=False, disable=not config.show_progress):
        idx = order[start : start + config.batch_size]
        # Trim columns that are padding in the whole batch: short sequences dominate real logs.
        width = int((window_inputs[idx] > 0).sum(1).max())
        inputs, targets = window_inputs[idx, -width:], window_targets[idx, -width:]
        if on_batch is not None:
            on_batch(window_users[idx], inputs, targets)
        loss = sequence_loss(
            model,
            torch.as_tensor(inputs, device=device),
            torch.as_tensor(targets, device=device),
            loss_name,
            sampler,
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += float(loss.detach())
        batches += 1
    return {"epoch": epoch, "loss": total / batches, "train_seconds": time.perf_counter() - started}


def _validation_metrics(model: SASRec, data: UserSequences, config: TrainingConfig, device: str) -> dict:
    """Validation NDCG@10 and Recall@10 through the shared evaluator (the model is left in eval mode)."""
    ranks = evaluate_split(
        model_score_fn(model),
        data,
        "valid",
        model.max_length,
        config.mask_history,
        config.eval_chunk_size,
        device,
    ).ranks
    return {
        "valid_ndcg_at_10": float(ndcg_at_k(ranks, 10).mean()),
        "valid_recall_at_10": float(recall_at_k(ranks, 10).mean()),
    }


def _log_epoch(record: dict) -> None:
    logger.info(
        "epoch %d: loss %.4f, validation NDCG@10 %s, %.1f s",
        record["epoch"],
        record["loss"],
        f"{record['valid_ndcg_at_10']:.4f}" if "valid_ndcg_at_10" in record else "-",
        record["train_seconds"],
    )
