import numpy as np
import pandas as pd
import pytest

from momorec.embeddings.contrastive_tuning import (
    build_training_pairs,
    scored_pairs,
    similarity_correlations,
    split_pairs_by_item,
)


@pytest.fixture
def pairs() -> pd.DataFrame:
    item_texts = pd.Series(["cordless drill", "drill bits", "", "paint roller", "paint tray", "glue gun"])
    item_motivations = pd.DataFrame(
        {
            "item_idx": [0, 1, 2, 3, 4, 5, 5],
            "motivation": [
                "drilling holes",
                "drilling holes",
                "x",
                "painting walls",
                "painting walls",
                "gluing",
                " ",
            ],
            "support": [5, 4, 3, 3, 2, 2, 1],
        }
    )
    return build_training_pairs(item_texts, item_motivations)


def test_pairs_skip_empty_item_text_and_empty_motivation(pairs):
    assert pairs["item_idx"].tolist() == [0, 1, 3, 4, 5]
    assert set(pairs.columns) == {"item_idx", "motivation", "item_text"}


def test_split_holds_out_whole_items(pairs):
    train, held = split_pairs_by_item(pairs, 0.4, seed=42)
    assert set(train["item_idx"]).isdisjoint(held["item_idx"])
    assert len(train) + len(held) == len(pairs)
    assert len(held) >= 1 and len(train) >= 1
    with pytest.raises(ValueError, match="eval_fraction"):
        split_pairs_by_item(pairs, 1.0, seed=42)


def test_scored_pairs_negatives_never_share_the_motivation(pairs):
    scored = scored_pairs(pairs, seed=3)
    positives = scored[scored["score"] == 1.0]
    negatives = scored[scored["score"] == 0.0]
    assert len(positives) == len(pairs)
    assert len(negatives) > 0
    own = dict(zip(pairs["item_text"], pairs["motivation"], strict=True))
    assert all(
        own[text] != motivation
        for motivation, text in zip(negatives["sentence1"], negatives["sentence2"], strict=True)
    )


def test_correlations_are_high_when_positives_share_words(pairs, hashing_encoder):
    scored = pd.DataFrame(
        {
            "sentence1": ["red drill", "red drill", "blue paint", "blue paint"],
            "sentence2": ["red drill set", "soft pillow", "blue paint can", "metal hinge"],
            "score": [1.0, 0.0, 1.0, 0.0],
        }
    )
    result = similarity_correlations(hashing_encoder, scored)
    assert result["pearson"] > 0.9 and result["spearman"] > 0.8
    assert np.isnan(similarity_correlations(hashing_encoder, scored.iloc[:2])["pearson"])


@pytest.mark.slow
def test_tuning_one_epoch_on_a_handful_of_pairs_changes_the_model(pairs):
    from momorec.embeddings.contrastive_tuning import tune_encoder
    from momorec.embeddings.encoder import encode_texts, load_encoder

    model = load_encoder()
    before = encode_texts(model, ["drilling holes"], show_progress_bar=False)
    tune_encoder(model, pairs, epochs=1, learning_rate=5e-5, batch_size=4, seed=42)
    after = encode_texts(model, ["drilling holes"], show_progress_bar=False)
    assert not np.allclose(before, after)
    np.testing.assert_allclose(np.linalg.norm(after), 1.0, rtol=1e-5)
