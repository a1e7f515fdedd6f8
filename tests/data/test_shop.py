"""The built-in shop generator (src/momorec/data/shop.py, shop_vocabulary.py)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re

import numpy as np
import pandas as pd
import pytest

from momorec.data import shop, shop_vocabulary
from momorec.data.shop import ShopSettings, generate_shop, shop_file_bytes

SMALL = ShopSettings(n_users=400, n_items=300, interactions_per_user=8.0, n_motivations=20, seed=7)
ASIN = re.compile(r"^B0[0-9A-Z]{8}$")
USER_ID = re.compile(r"^A[A-Z2-7]{27}$")


@pytest.fixture(scope="module")
def small_files() -> dict[str, bytes]:
    return shop_file_bytes(generate_shop(SMALL), SMALL)


@pytest.fixture(scope="module")
def small_records(small_files) -> tuple[list[dict], list[dict], pd.DataFrame]:
    reviews = [json.loads(line) for line in gzip.decompress(small_files[shop.REVIEWS_FILENAME]).splitlines()]
    meta = [json.loads(line) for line in gzip.decompress(small_files[shop.META_FILENAME]).splitlines()]
    truth = pd.read_parquet(io.BytesIO(small_files[shop.TRUTH_FILENAME]))
    return reviews, meta, truth


@pytest.fixture(scope="module")
def default_shop() -> shop.ShopTables:
    """The shop of the default settings (the one `kedro run` uses); under a second to generate."""
    return generate_shop(ShopSettings())


# --- vocabulary -------------------------------------------------------------------------------------


def test_vocabulary_has_dozens_of_motivations_with_products_and_brands():
    assert len(shop_vocabulary.MOTIVATIONS) >= 40
    for motivation in shop_vocabulary.MOTIVATIONS:
        assert len(motivation.product_types) >= 4 and len(motivation.brands) >= 3
        for product_type in motivation.product_types:
            assert product_type.noun and product_type.attributes
            assert 0 < product_type.price_low <= product_type.price_high
    assert len(shop_vocabulary.SHARED_PRODUCT_TYPES) >= 10


def test_product_type_line_parser_rejects_malformed_lines():
    parsed = shop_vocabulary.parse_product_type("Kettle | 10-20 | Fast; Quiet | 1 L")
    assert parsed.noun == "Kettle" and parsed.attributes == ("Fast", "Quiet") and parsed.variants == ("1 L",)
    assert shop_vocabulary.parse_product_type("Kettle | 10-20 | Fast |").variants == ()
    with pytest.raises(ValueError, match="4 '\\|'-separated parts"):
        shop_vocabulary.parse_product_type("Kettle | 10-20 | Fast")
    with pytest.raises(ValueError, match="bad price range"):
        shop_vocabulary.parse_product_type("Kettle | 30-20 | Fast | ")


# --- settings ---------------------------------------------------------------------------------------


def test_settings_from_mapping_casts_values_and_names_unknown_keys():
    settings = ShopSettings.from_mapping({"n_users": "10", "skew": 2, "start_date": "2020-05-01"})
    assert settings.n_users == 10 and settings.skew == 2.0 and isinstance(settings.skew, float)
    with pytest.raises(ValueError, match="unknown builtin_shop settings \\['n_user'\\]"):
        ShopSettings.from_mapping({"n_user": 10})


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("n_users", 0, "n_users must be"),
        ("n_motivations", 999, "n_motivations must be in"),
        ("second_motivation_fraction", 1.5, "second_motivation_fraction must be in"),
        ("skew", -1.0, "skew must be"),
        ("start_date", "not a date", "start_date must be an ISO date"),
    ],
)
def test_settings_reject_out_of_range_values(key, value, message):
    with pytest.raises(ValueError, match=message):
        ShopSettings(**{key: value})


def test_fingerprint_changes_with_any_setting():
    assert SMALL.fingerprint() == ShopSettings.from_mapping(dict(SMALL.__dict__)).fingerprint()
    assert SMALL.fingerprint() != ShopSettings(**{**SMALL.__dict__, "skew": 1.31}).fingerprint()


# --- determinism ------------------------------------------------------------------------------------


def test_same_settings_give_byte_identical_files(small_files):
    again = shop_file_bytes(generate_shop(SMALL), SMALL)
    assert again.keys() == small_files.keys()
    for name, data in small_files.items():
        assert again[name] == data, name


#: sha256 of the SMALL shop (decompressed review and meta lines, truth as CSV), recorded on the generator
#: before ``_generate_items`` was split into small functions: the same seed must keep giving the same shop.
SMALL_SHOP_SHA256 = "aff11027cfc0137ad4e964db42abac4a5361360f3552bf98fd3ebaaf9fb082fb"


def test_small_shop_matches_its_recorded_hash(small_files):
    digest = hashlib.sha256()
    digest.update(gzip.decompress(small_files[shop.REVIEWS_FILENAME]))
    digest.update(gzip.decompress(small_files[shop.META_FILENAME]))
    truth = pd.read_parquet(io.BytesIO(small_files[shop.TRUTH_FILENAME]))
    digest.update(truth.to_csv(index=False).encode())
    assert digest.hexdigest() == SMALL_SHOP_SHA256


def test_different_seed_gives_different_files(small_files):
    other = ShopSettings(**{**SMALL.__dict__, "seed": SMALL.seed + 1})
    other_files = shop_file_bytes(generate_shop(other), other)
    for name in (shop.REVIEWS_FILENAME, shop.META_FILENAME, shop.TRUTH_FILENAME):
        assert other_files[name] != small_files[name], name


# --- the Amazon Reviews 2023 format -----------------------------------------------------------------


def test_review_lines_have_the_amazon_2023_fields_and_types(small_records):
    reviews, meta, _ = small_records
    assert len(reviews) > 0.8 * SMALL.n_users * SMALL.interactions_per_user
    expected_fields = {
        "rating", "title", "text", "images", "asin", "parent_asin", "user_id", "timestamp",
        "helpful_vote", "verified_purchase",
    }  # fmt: skip
    start_ms = pd.Timestamp(SMALL.start_date, tz="UTC").value // 1_000_000
    catalogue = {record["parent_asin"] for record in meta}
    for review in reviews:
        assert set(review) == expected_fields
        assert isinstance(review["rating"], float) and 1.0 <= review["rating"] <= 5.0
        assert isinstance(review["title"], str) and review["title"]
        assert isinstance(review["text"], str) and review["text"]
        assert review["images"] == []
        assert ASIN.match(review["asin"]) and ASIN.match(review["parent_asin"])
        assert review["parent_asin"] in catalogue
        assert USER_ID.match(review["user_id"])
        # Unix milliseconds: 13 digits, not before the start date.
        assert isinstance(review["timestamp"], int) and review["timestamp"] >= start_ms > 10**12
        assert isinstance(review["helpful_vote"], int) and review["helpful_vote"] >= 0
        assert isinstance(review["verified_purchase"], bool)
    # Some reviews name a variant asin, as in the real files; the item id is always parent_asin.
    assert any(review["asin"] != review["parent_asin"] for review in reviews)


def test_meta_lines_have_the_amazon_2023_fields_and_types(small_records):
    _, meta, _ = small_records
    expected_fields = {
        "main_category", "title", "average_rating", "rating_number", "features", "description", "price",
        "images", "videos", "store", "categories", "details", "parent_asin",
    }  # fmt: skip
    assert len(meta) == SMALL.n_items
    assert len({record["parent_asin"] for record in meta}) == SMALL.n_items
    price_kinds = set()
    for record in meta:
        assert set(record) == expected_fields  # no bought_together: it would leak future co-purchases
        assert ASIN.match(record["parent_asin"])
        assert record["title"] and record["store"] and record["main_category"]
        assert isinstance(record["categories"], list) and all(c for c in record["categories"])
        assert isinstance(record["features"], list) and all(
            isinstance(f, str) and f for f in record["features"]
        )
        assert isinstance(record["description"], list) and all(
            isinstance(d, str) for d in record["description"]
        )
        assert isinstance(record["details"], dict) and record["details"]["Brand"] == record["store"]
        assert isinstance(record["rating_number"], int) and record["rating_number"] >= 0
        assert record["average_rating"] is None or 1.0 <= record["average_rating"] <= 5.0
        price = record["price"]
        price_kinds.add("null" if price is None else "dash" if price == "—" else type(price).__name__)
        if isinstance(price, float):
            assert price > 0
    # Like the real data: prices are mostly numbers, sometimes null, sometimes a dash.
    assert price_kinds == {"float", "null", "dash"}
    assert any(record["categories"] == [] for record in meta)
    assert any(record["description"] == [] for record in meta)


def test_titles_read_like_listings(small_records):
    _, meta, _ = small_records
    for record in meta:
        # "Brand Model Noun, attribute[, variant]"
        assert record["title"].startswith(record["store"] + " ")
        assert ", " in record["title"]
    assert len({record["title"] for record in meta}) > 0.9 * len(meta)


def test_rating_number_and_average_match_the_reviews(small_records):
    reviews, meta, _ = small_records
    frame = pd.DataFrame(reviews)
    counts = frame["parent_asin"].value_counts()
    means = frame.groupby("parent_asin")["rating"].mean().round(1)
    for record in meta:
        assert record["rating_number"] == counts.get(record["parent_asin"], 0)
        if record["rating_number"]:
            assert record["average_rating"] == pytest.approx(means[record["parent_asin"]], abs=0.051)


def test_each_user_reviews_each_item_once_with_increasing_timestamps(small_records):
    reviews, _, _ = small_records
    frame = pd.DataFrame(reviews)
    assert not frame.duplicated(["user_id", "parent_asin"]).any()
    assert frame["timestamp"].is_monotonic_increasing  # the file is a log in time order
    assert frame.groupby("user_id")["timestamp"].apply(lambda t: t.is_unique).all()


# --- ground truth -----------------------------------------------------------------------------------


def test_every_item_has_a_true_motivation_and_the_second_fraction_holds(small_records):
    _, meta, truth = small_records
    assert list(truth.columns) == ["item_id", "motivation_id", "motivation"]
    assert set(truth["item_id"]) == {record["parent_asin"] for record in meta}
    assert not truth.duplicated(["item_id", "motivation_id"]).any()
    per_item = truth.groupby("item_id").size()
    assert per_item.max() <= 2
    assert (per_item == 2).sum() == round(SMALL.second_motivation_fraction * SMALL.n_items)
    names = {i: m.name for i, m in enumerate(shop_vocabulary.MOTIVATIONS)}
    assert all(names[i] == name for i, name in zip(truth["motivation_id"], truth["motivation"], strict=True))
    assert truth["motivation_id"].nunique() == SMALL.n_motivations


def test_no_second_motivation_when_the_fraction_is_zero():
    settings = ShopSettings(**{**SMALL.__dict__, "second_motivation_fraction": 0.0})
    truth = generate_shop(settings).item_true_motivations
    assert truth["item_id"].is_unique and len(truth) == settings.n_items


# --- realism ----------------------------------------------------------------------------------------


def test_default_shop_has_a_long_tail_and_survives_a_5_core(default_shop):
    from momorec.data.kcore import filter_k_core

    reviews = default_shop.reviews
    per_item = reviews["parent_asin"].value_counts()
    assert (per_item <= 5).mean() > 0.5  # most bought items have at most 5 interactions
    assert per_item.head(len(per_item) // 10).sum() > 0.4 * len(reviews)  # the top 10 % sell a lot
    log = pd.DataFrame(
        {"user_id": reviews["user_id"], "item_id": reviews["parent_asin"], "timestamp": reviews["timestamp"]}
    )
    kept = filter_k_core(log, 5)
    assert len(kept) >= 10_000 and kept["user_id"].nunique() >= 1_000 and kept["item_id"].nunique() >= 500


def test_larger_skew_gives_a_longer_tail():
    def share_at_most_five(skew: float) -> float:
        settings = ShopSettings(**{**SMALL.__dict__, "skew": skew})
        counts = generate_shop(settings).reviews["parent_asin"].value_counts()
        return float((counts <= 5).mean())

    assert share_at_most_five(0.2) < share_at_most_five(1.0) < share_at_most_five(2.0)


def test_consecutive_purchases_share_a_motivation_far_above_chance(small_records):
    reviews, _, truth = small_records
    frame = pd.DataFrame(reviews).sort_values(["user_id", "timestamp"], kind="stable")
    same_user = frame["user_id"].to_numpy()[1:] == frame["user_id"].to_numpy()[:-1]
    items = frame["parent_asin"].to_numpy()
    first, second = items[:-1][same_user], items[1:][same_user]
    motivations = truth.groupby("item_id")["motivation_id"].apply(frozenset).to_dict()

    def share_sharing(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.mean([bool(motivations[x] & motivations[y]) for x, y in zip(a, b, strict=True)]))

    observed = share_sharing(first, second)
    # Chance: the same purchases paired at random (keeps item popularity, breaks the user's sequence).
    shuffled = np.random.default_rng(0).permutation(second)
    chance = share_sharing(first, shuffled)
    assert observed > 0.4
    assert observed > 4 * chance


def test_noise_injects_a_few_malformed_lines_only_when_asked(small_files):
    noisy_settings = ShopSettings(**{**SMALL.__dict__, "noise": 0.01})
    noisy = gzip.decompress(
        shop_file_bytes(generate_shop(noisy_settings), noisy_settings)[shop.REVIEWS_FILENAME]
    )
    clean = gzip.decompress(small_files[shop.REVIEWS_FILENAME])

    def problems(data: bytes) -> dict[str, int]:
        counts = {"not_json": 0, "missing_user_id": 0}
        for line in data.splitlines():
            try:
                record = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                counts["not_json"] += 1
                continue
            counts["missing_user_id"] += "user_id" not in record
        return counts

    assert problems(clean) == {"not_json": 0, "missing_user_id": 0}
    noisy_problems = problems(noisy)
    assert noisy_problems["not_json"] >= 1 and noisy_problems["missing_user_id"] >= 1
    n_clean = len(clean.splitlines())
    assert len(noisy.splitlines()) == n_clean + round(0.01 * n_clean)


@pytest.mark.parametrize(
    ("noun", "plural"),
    [
        ("Espresso Machine", "Espresso Machines"),
        ("Knock Box", "Knock Boxes"),
        ("Bar Mixing Glass", "Bar Mixing Glasses"),
        ("Trekking Poles", "Trekking Poles"),
        ("Ring Light with Stand", "Ring Lights with Stand"),
        ("Weight Bench", "Weight Benches"),
    ],
)
def test_category_leaves_are_plural_product_nouns(noun, plural):
    assert shop._pluralise(noun) == plural
