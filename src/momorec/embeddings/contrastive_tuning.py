"""Optional contrastive tuning of the sentence encoder on (motivation, item text) pairs.

Two losses are trained together through ``SentenceTransformerTrainer`` (one dataset per loss, round-robin):

* ``MultipleNegativesRankingLoss`` (InfoNCE): the item text is the positive of its motivation, the other items
  of the batch are its negatives;
* ``CoSENTLoss`` on scored pairs: a motivation with its own item (score 1) and with a random item of another
  motivation (score 0), which calibrates the cosine scale that the clustering threshold relies on.

The pairs come from ``item_motivations``, which the motivation pipeline builds from the training prefix only.
A held-out share of items is kept out of training; on it the Pearson and Spearman correlations between the
cosine similarity and the 0/1 pair label are reported before and after tuning.
"""

from __future__ import annotations

import logging
import tempfile
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import pearsonr, spearmanr

from momorec.embeddings.encoder import encode_texts, load_encoder

logger = logging.getLogger(__name__)


def build_training_pairs(item_texts: pd.Series, item_motivations: pd.DataFrame) -> pd.DataFrame:
    """(item_idx, motivation, item_text) for every item motivation whose item has a non-empty text."""
    pairs = item_motivations[["item_idx", "motivation"]].copy()
    pairs["motivation"] = pairs["motivation"].astype("string").fillna("").str.strip()
    pairs["item_text"] = item_texts.reindex(pairs["item_idx"].to_numpy()).fillna("").to_numpy()
    keep = (pairs["motivation"] != "") & (pairs["item_text"] != "")
    return pairs.loc[keep].drop_duplicates(["item_idx", "motivation"]).reset_index(drop=True)


def split_pairs_by_item(
    pairs: pd.DataFrame, eval_fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out a share of *items* (not rows) so the evaluation texts are unseen in training."""
    if not 0.0 < eval_fraction < 1.0:
        raise ValueError(f"tuning.eval_fraction must be in (0, 1), got {eval_fraction}")
    items = np.sort(pairs["item_idx"].unique())
    rng = np.random.default_rng(seed)
    n_eval = max(1, int(round(eval_fraction * len(items))))
    eval_items = rng.choice(items, size=min(n_eval, len(items) - 1), replace=False)
    is_eval = pairs["item_idx"].isin(eval_items)
    return pairs.loc[~is_eval].reset_index(drop=True), pairs.loc[is_eval].reset_index(drop=True)


def scored_pairs(pairs: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Each positive pair (score 1) plus one negative (score 0): its motivation with another motivation's item."""
    rng = np.random.default_rng(seed)
    n = len(pairs)
    positives = pd.DataFrame(
        {
            "sentence1": pairs["motivation"].to_numpy(),
            "sentence2": pairs["item_text"].to_numpy(),
            "score": 1.0,
        }
    )
    if n < 2:
        return positives
    # A random shift (never 0) pairs each row with a different row; rows sharing the motivation are dropped.
    shift = rng.integers(1, n, size=n)
    partner = (np.arange(n) + shift) % n
    motivations = pairs["motivation"].to_numpy()
    differs = motivations != motivations[partner]
    negatives = pd.DataFrame(
        {
            "sentence1": motivations[differs],
            "sentence2": pairs["item_text"].to_numpy()[partner[differs]],
            "score": 0.0,
        }
    )
    return pd.concat([positives, negatives], ignore_index=True)


def similarity_correlations(model: Any, scored: pd.DataFrame, batch_size: int = 64) -> dict[str, float]:
    """Pearson and Spearman correlation between cosine(sentence1, sentence2) and the pair score."""
    if len(scored) < 3 or scored["score"].nunique() < 2:
        return {"pearson": float("nan"), "spearman": float("nan")}
    left = encode_texts(model, scored["sentence1"].tolist(), batch_size, show_progress_bar=False)
    right = encode_texts(model, scored["sentence2"].tolist(), batch_size, show_progress_bar=False)
    cosine = (left * right).sum(axis=1)
    labels = scored["score"].to_numpy(dtype=float)
    return {"pearson": float(pearsonr(labels, cosine)[0]), "spearman": float(spearmanr(labels, cosine)[0])}


def tune_encoder(
    model: Any,
    train_pairs: pd.DataFrame,
    epochs: int = 3,
    learning_rate: float = 5e-5,
    batch_size: int = 32,
    seed: int = 42,
) -> Any:
    """Fine-tune ``model`` in place with InfoNCE + CoSENT (AdamW, linear schedule, no warm-up) and return it."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import CoSENTLoss, MultipleNegativesRankingLoss
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers

    if len(train_pairs) < 2:
        raise ValueError(
            f"contrastive tuning needs at least 2 (motivation, item) pairs, got {len(train_pairs)}"
        )
    ranking = Dataset.from_dict(
        {"anchor": train_pairs["motivation"].tolist(), "positive": train_pairs["item_text"].tolist()}
    )
    scored = scored_pairs(train_pairs, seed)
    cosent = Dataset.from_dict(
        {
            "sentence1": scored["sentence1"].tolist(),
            "sentence2": scored["sentence2"].tolist(),
            "score": scored["score"].astype(float).tolist(),
        }
    )
    with tempfile.TemporaryDirectory(prefix="momorec-tuning-") as scratch:
        # The trainer insists on an output folder; nothing is saved there (save_strategy="no").
        args = SentenceTransformerTrainingArguments(
            output_dir=scratch,
            num_train_epochs=epochs,
            learning_rate=learning_rate,
            per_device_train_batch_size=batch_size,
            lr_scheduler_type="linear",
            warmup_steps=0,
            weight_decay=0.0,
            adam_beta1=0.9,
            adam_beta2=0.999,
            adam_epsilon=1e-8,
            max_grad_norm=1.0,
            seed=seed,
            data_seed=seed,
            batch_sampler=BatchSamplers.NO_DUPLICATES,
            save_strategy="no",
            report_to="none",
            logging_strategy="no",
            disable_tqdm=False,
            use_cpu=True,
        )
        trainer = SentenceTransformerTrainer(
            model=model,
            args=args,
            train_dataset={"ranking": ranking, "cosent": cosent},
            loss={"ranking": MultipleNegativesRankingLoss(model), "cosent": CoSENTLoss(model)},
        )
        trainer.train()
    return model


def tune_and_measure(
    model_name: str,
    pairs: pd.DataFrame,
    eval_fraction: float,
    epochs: int,
    learning_rate: float,
    batch_size: int,
    encode_batch_size: int,
    seed: int,
) -> tuple[Any, dict[str, Any]]:
    """Load ``model_name``, tune it on the training items' pairs, and measure the held-out items around it.

    ``pairs``: from ``build_training_pairs``, over at least 2 items (one is held out). Returns the tuned model
    and a report: pair counts and Pearson/Spearman before and after tuning (NaN when the held-out pairs are
    too few to correlate).
    """
    if pairs["item_idx"].nunique() < 2:
        raise ValueError(
            f"spreading.tuning.enabled is true but item_motivations gives {len(pairs)} usable "
            "(motivation, item text) pairs over fewer than 2 items; disable tuning or generate motivations"
        )
    train_pairs, eval_pairs = split_pairs_by_item(pairs, eval_fraction, seed)
    eval_scored = scored_pairs(eval_pairs, seed)
    model = load_encoder(model_name)
    before = similarity_correlations(model, eval_scored, encode_batch_size)
    tune_encoder(
        model, train_pairs, epochs=epochs, learning_rate=learning_rate, batch_size=batch_size, seed=seed
    )
    after = similarity_correlations(model, eval_scored, encode_batch_size)
    report = {
        "enabled": True,
        "train_pairs": len(train_pairs),
        "eval_pairs": len(eval_scored),
        "pearson_before": before["pearson"],
        "spearman_before": before["spearman"],
        "pearson_after": after["pearson"],
        "spearman_after": after["spearman"],
    }
    return model, report
