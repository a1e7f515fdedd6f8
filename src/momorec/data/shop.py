"""The built-in shop: a deterministic generator of a realistic e-commerce log.

It writes the Amazon Reviews 2023 JSON-lines format (``Shop.jsonl.gz`` reviews, ``meta_Shop.jsonl.gz``
items) plus a ground-truth table ``item_true_motivations`` that only evaluation reads.

How the log comes about:

- Items: every used motivation (``shop_vocabulary.MOTIVATIONS``) gets an equal share of single-motivation
  items; a ``second_motivation_fraction`` of the items are shared products (a water bottle, a timer) whose
  two true motivations come from ``SHARED_PRODUCT_TYPES``. Titles read "Brand Model Noun, attribute, variant".
- Popularity: each item gets a random global rank r and a weight (r + 1) ** -skew (Zipf-like), so a few
  items sell a lot and most items sell a handful of times. Motivations are unevenly popular too.
- Users: each pursues 1-3 motivations, starting with one and taking up the others later in their
  sequence; at each purchase they mostly buy for their newest motivation, sometimes for an earlier one,
  and now and then (``off_motivation_fraction``) buy a popular item unrelated to any of them.
- Sequence lengths are 1 + a negative binomial draw (mean ``interactions_per_user``), so many users buy
  once or twice, as in real review data, and a minority buy a lot. Gaps between purchases are log-normal.
- A user reviews an item at most once: repeated picks are re-drawn by popularity (close to sampling
  without replacement); the few still repeating after 32 rounds are dropped (about 6 % at the defaults,
  so the log is a little shorter than ``n_users * interactions_per_user``).

Everything is vectorised numpy/pandas; one ``numpy.random.Generator`` seeded from ``seed`` drives all
draws, and the files are written with fixed gzip headers, so the same settings give byte-identical files.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from momorec.data import shop_vocabulary as vocab

# Bump when the generator's output changes for the same settings, so cached files are regenerated.
GENERATOR_VERSION = 2

REVIEWS_FILENAME = "Shop.jsonl.gz"
META_FILENAME = "meta_Shop.jsonl.gz"
TRUTH_FILENAME = "item_true_motivations.parquet"
MANIFEST_FILENAME = "manifest.json"

# Shape of the realistic details that are not worth a setting of their own.
_USER_MOTIVATION_COUNT_PROBS = (0.45, 0.35, 0.20)  # users pursuing 1, 2, 3 motivations
_FOCUS_ON_NEWEST = 0.7  # chance a purchase serves the user's most recent motivation
_LENGTH_DISPERSION = 1.2  # negative-binomial shape of (sequence length - 1): smaller = longer tail
_MAX_SEQUENCE_LENGTH = 400
_MOTIVATION_POPULARITY_SKEW = 0.6
_MEDIAN_GAP_DAYS = 6.0
_GAP_SIGMA = 1.3
_EMPTY_CATEGORIES_FRACTION = 0.2
_EMPTY_DESCRIPTION_FRACTION = 0.1
_USE_HINT_FRACTION = 0.5
_NULL_PRICE_FRACTION = 0.12
_DASH_PRICE_FRACTION = 0.03
_VARIANT_ASIN_FRACTION = 0.2
_VERIFIED_FRACTION = 0.9
_RESAMPLE_ROUNDS = 32

_ASIN_ALPHABET = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8)
_USER_ALPHABET = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", dtype=np.uint8)


@dataclass(frozen=True)
class ShopSettings:
    """Settings of the built-in shop (``conf/base/globals.yml`` → ``builtin_shop``).

    Attributes:
        n_users: number of users generated (users whose purchases all collide may vanish; rare).
        n_items: number of items in the catalogue (some may never be bought).
        interactions_per_user: mean raw sequence length.
        n_motivations: how many motivations of the vocabulary are used (a seeded random subset).
        second_motivation_fraction: share of items that are shared products with two true motivations
            (drawn from the shared product types whose motivations include at least two used ones).
        skew: Zipf exponent of item popularity (larger = longer tail).
        off_motivation_fraction: share of purchases of a popular item outside the user's motivations.
        noise: share of malformed lines injected into the reviews file (0 = a clean file).
        seed: seed of the random generator.
        start_date: ISO date of the earliest possible first purchase.
        span_days: users make their first purchase within this many days after ``start_date``.
    """

    n_users: int = 5500
    n_items: int = 3000
    interactions_per_user: float = 8.0
    n_motivations: int = 48
    second_motivation_fraction: float = 0.15
    skew: float = 1.4
    off_motivation_fraction: float = 0.1
    noise: float = 0.0
    seed: int = 42
    start_date: str = "2019-01-01"
    span_days: int = 1095

    def __post_init__(self) -> None:
        problems = []
        if self.n_users < 1:
            problems.append(f"n_users must be ≥ 1, got {self.n_users}")
        if self.n_items < 2:
            problems.append(f"n_items must be ≥ 2, got {self.n_items}")
        if self.interactions_per_user < 1:
            problems.append(f"interactions_per_user must be ≥ 1, got {self.interactions_per_user}")
        if not 1 <= self.n_motivations <= len(vocab.MOTIVATIONS):
            problems.append(f"n_motivations must be in 1..{len(vocab.MOTIVATIONS)}, got {self.n_motivations}")
        for name in ("second_motivation_fraction", "off_motivation_fraction", "noise"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                problems.append(f"{name} must be in [0, 1], got {value}")
        if self.skew < 0:
            problems.append(f"skew must be ≥ 0, got {self.skew}")
        if self.span_days < 1:
            problems.append(f"span_days must be ≥ 1, got {self.span_days}")
        try:
            pd.Timestamp(self.start_date)
        except ValueError:
            problems.append(f"start_date must be an ISO date, got {self.start_date!r}")
        if problems:
            raise ValueError("invalid builtin_shop settings: " + "; ".join(problems))

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any] | ShopSettings | None) -> ShopSettings:
        """Build settings from a config mapping, naming any key this generator does not know."""
        if isinstance(settings, ShopSettings):
            return settings
        settings = dict(settings or {})
        known = {f.name: f.type for f in dataclasses.fields(cls)}
        unknown = sorted(set(settings) - set(known))
        if unknown:
            raise ValueError(f"unknown builtin_shop settings {unknown}; known: {sorted(known)}")
        casts = {"int": int, "float": float, "str": str}
        return cls(**{key: casts[known[key]](value) for key, value in settings.items()})

    def fingerprint(self) -> str:
        """A hash of the settings and the generator version: equal fingerprints mean equal files."""
        payload = json.dumps(
            {"generator_version": GENERATOR_VERSION, "settings": dataclasses.asdict(self)}, sort_keys=True
        )
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class ShopTables:
    """The generated shop in memory: one row per review line, per meta line, and per true motivation."""

    reviews: pd.DataFrame
    meta: pd.DataFrame
    item_true_motivations: pd.DataFrame


# ----------------------------------------------------------------------------------------------------
# Vocabulary as flat arrays (built once per call; small)
# ----------------------------------------------------------------------------------------------------


def _pluralise(noun: str) -> str:
    head, joiner, tail = noun.partition(" with ")
    if joiner:  # "Ring Light with Stand" -> "Ring Lights with Stand"
        return _pluralise(head) + joiner + tail
    if noun.endswith(("ss", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith(("s", "ware")):  # already plural, or a mass noun
        return noun
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


@dataclass
class _TypeTable:
    """All product types (motivation types first, then shared types) as parallel arrays."""

    noun: np.ndarray
    price_low: np.ndarray
    price_high: np.ndarray
    main_category: np.ndarray
    subcategory: np.ndarray
    leaf_category: np.ndarray
    attr_offset: np.ndarray
    attr_count: np.ndarray
    attrs: np.ndarray
    variant_offset: np.ndarray
    variant_count: np.ndarray
    variants: np.ndarray


def _type_table() -> _TypeTable:
    rows: list[tuple[vocab.ProductType, str, str]] = [
        (pt, m.main_category, m.subcategory) for m in vocab.MOTIVATIONS for pt in m.product_types
    ]
    rows += [(s.product_type, s.main_category, s.subcategory) for s in vocab.SHARED_PRODUCT_TYPES]
    attr_count = np.array([len(pt.attributes) for pt, _, _ in rows])
    variant_count = np.array([len(pt.variants) for pt, _, _ in rows])
    return _TypeTable(
        noun=np.array([pt.noun for pt, _, _ in rows], dtype=object),
        price_low=np.array([pt.price_low for pt, _, _ in rows]),
        price_high=np.array([pt.price_high for pt, _, _ in rows]),
        main_category=np.array([c for _, c, _ in rows], dtype=object),
        subcategory=np.array([s for _, _, s in rows], dtype=object),
        leaf_category=np.array([_pluralise(pt.noun) for pt, _, _ in rows], dtype=object),
        attr_offset=np.concatenate([[0], np.cumsum(attr_count)[:-1]]),
        attr_count=attr_count,
        attrs=np.array([a for pt, _, _ in rows for a in pt.attributes], dtype=object),
        variant_offset=np.concatenate([[0], np.cumsum(variant_count)[:-1]]),
        variant_count=variant_count,
        variants=np.array([v for pt, _, _ in rows for v in pt.variants] + [""], dtype=object),
    )


def _pick(rng: np.random.Generator, offset: np.ndarray, count: np.ndarray) -> np.ndarray:
    """For each row, a uniform index into its own slice ``[offset, offset + count)`` of a flat array."""
    return offset + np.floor(rng.random(len(offset)) * count).astype(np.int64)


def _random_codes(
    rng: np.random.Generator, n: int, prefix: bytes, length: int, alphabet: np.ndarray
) -> np.ndarray:
    """``n`` distinct ids ``prefix + length random characters`` (re-drawn until all are distinct)."""
    codes = np.empty((0,), dtype=f"S{len(prefix) + length}")
    while len(codes) < n:
        need = n - len(codes)
        chars = alphabet[rng.integers(0, len(alphabet), size=(need, length))]
        body = np.ascontiguousarray(chars).view(f"S{length}").ravel()
        fresh = np.char.add(prefix, body)
        codes = pd.unique(np.concatenate([codes, fresh]))
    return codes.astype(str).astype(object)


# ----------------------------------------------------------------------------------------------------
# Items
# ----------------------------------------------------------------------------------------------------


@dataclass
class _Items:
    parent_asin: np.ndarray
    variant_asin: np.ndarray
    main_motivation: np.ndarray  # vocabulary index
    second_motivation: np.ndarray  # vocabulary index or -1
    popularity: np.ndarray  # Zipf-like weight
    quality: np.ndarray  # shifts the item's ratings
    noun: np.ndarray
    meta: pd.DataFrame


def _shared_type_rows(used: np.ndarray) -> list[tuple[int, list[int]]]:
    """Shared product types (their row in the type table) whose motivations include at least two used ones."""
    key_to_index = {m.key: i for i, m in enumerate(vocab.MOTIVATIONS)}
    used_set = set(used.tolist())
    n_motivation_types = sum(len(m.product_types) for m in vocab.MOTIVATIONS)
    shared_rows = []
    for s_index, shared in enumerate(vocab.SHARED_PRODUCT_TYPES):
        members = [key_to_index[k] for k in shared.motivation_keys if key_to_index[k] in used_set]
        if len(members) >= 2:
            shared_rows.append((n_motivation_types + s_index, members))
    return shared_rows


def _single_items(rng: np.random.Generator, used: np.ndarray, n_single: int) -> tuple[np.ndarray, np.ndarray]:
    """Single-motivation items: an equal share per used motivation, a product type of that motivation."""
    type_start = np.concatenate([[0], np.cumsum([len(m.product_types) for m in vocab.MOTIVATIONS])[:-1]])
    type_count = np.array([len(m.product_types) for m in vocab.MOTIVATIONS])
    single_main = rng.permutation(np.resize(used, n_single))
    single_type = _pick(rng, type_start[single_main], type_count[single_main])
    return single_main, single_type


def _dual_items(
    rng: np.random.Generator, shared_rows: list[tuple[int, list[int]]], n_dual: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dual items: a shared product type, two distinct motivations among its used members."""
    shared_choice = rng.integers(0, max(len(shared_rows), 1), size=n_dual)
    member_count = np.array([len(m) for _, m in shared_rows] or [2])
    member_offset = np.concatenate([[0], np.cumsum(member_count)[:-1]])
    members_flat = np.array([k for _, m in shared_rows for k in m] or [0])
    count = member_count[shared_choice]
    first = np.floor(rng.random(n_dual) * count).astype(np.int64)
    second = (first + 1 + np.floor(rng.random(n_dual) * (count - 1)).astype(np.int64)) % count
    dual_main = members_flat[member_offset[shared_choice] + first]
    dual_second = members_flat[member_offset[shared_choice] + second]
    dual_type = np.array([t for t, _ in shared_rows] or [0])[shared_choice]
    return dual_main, dual_second, dual_type


def _item_motivations(
    rng: np.random.Generator, settings: ShopSettings, used: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per item: main motivation, second motivation (-1 for single items) and product type row."""
    n_items = settings.n_items
    shared_rows = _shared_type_rows(used)
    n_dual = round(settings.second_motivation_fraction * n_items) if shared_rows else 0
    n_single = n_items - n_dual
    single_main, single_type = _single_items(rng, used, n_single)
    dual_main, dual_second, dual_type = _dual_items(rng, shared_rows, n_dual)
    # Shuffle single and dual items together so neither sits in a block of the catalogue.
    order = rng.permutation(n_items)
    main = np.concatenate([single_main, dual_main])[order]
    second_motivation = np.concatenate([np.full(n_single, -1), dual_second])[order]
    type_index = np.concatenate([single_type, dual_type])[order]
    return main, second_motivation, type_index


def _brands(rng: np.random.Generator, main: np.ndarray, is_dual: np.ndarray) -> np.ndarray:
    """A motivation's own brands; shared products half the time carry a general-purpose brand."""
    brand_count = np.array([len(m.brands) for m in vocab.MOTIVATIONS])
    brand_offset = np.concatenate([[0], np.cumsum(brand_count)[:-1]])
    brands_flat = np.array([b for m in vocab.MOTIVATIONS for b in m.brands], dtype=object)
    brand = brands_flat[_pick(rng, brand_offset[main], brand_count[main])]
    general = np.array(vocab.GENERAL_BRANDS, dtype=object)
    use_general = is_dual & (rng.random(len(main)) < 0.5)
    brand[use_general] = general[rng.integers(0, len(general), size=int(use_general.sum()))]
    return brand


@dataclass
class _Listing:
    """The words of each item's listing: model name, noun, attributes, variant and the title built of them."""

    model: np.ndarray
    noun: np.ndarray
    attribute: np.ndarray
    second_attribute: np.ndarray  # another attribute of the same type (itself when the type has only one)
    has_second_attribute: np.ndarray
    title: np.ndarray


def _listings(
    rng: np.random.Generator, types: _TypeTable, type_index: np.ndarray, brand: np.ndarray
) -> _Listing:
    n_items = len(type_index)
    models = np.array(
        [f"{w} {s}".strip() for w in vocab.MODEL_WORDS for s in vocab.MODEL_SUFFIXES], dtype=object
    )
    model = models[rng.integers(0, len(models), size=n_items)]
    noun = types.noun[type_index]
    attr_index = _pick(rng, types.attr_offset[type_index], types.attr_count[type_index])
    # A second, different attribute of the same type for the feature list (wraps around its slice).
    attr_count = types.attr_count[type_index]
    other_attr_index = (
        types.attr_offset[type_index] + (attr_index - types.attr_offset[type_index] + 1) % attr_count
    )
    has_variant = types.variant_count[type_index] > 0
    variant_index = np.where(
        has_variant,
        _pick(rng, types.variant_offset[type_index], np.maximum(types.variant_count[type_index], 1)),
        len(types.variants) - 1,
    )
    attribute = types.attrs[attr_index]
    variant = types.variants[variant_index]
    title = brand + " " + model + " " + noun + ", " + attribute
    title = np.where(has_variant, title + ", " + variant, title)
    return _Listing(model, noun, attribute, types.attrs[other_attr_index], attr_count > 1, title)


def _prices(rng: np.random.Generator, types: _TypeTable, type_index: np.ndarray) -> np.ndarray:
    """Log-uniform prices in the type's range, with shop-style endings; a few null or "—"."""
    n_items = len(type_index)
    low, high = types.price_low[type_index], types.price_high[type_index]
    raw_price = np.exp(np.log(low) + rng.random(n_items) * (np.log(high) - np.log(low)))
    cents = np.array([0.99, 0.95, 0.49, 0.0])[rng.integers(0, 4, size=n_items)]
    price_value = np.maximum(np.floor(raw_price) + cents, 0.99).round(2)
    price_kind = rng.random(n_items)
    price = price_value.astype(object)
    price[price_kind < _NULL_PRICE_FRACTION] = None
    price[
        (price_kind >= _NULL_PRICE_FRACTION) & (price_kind < _NULL_PRICE_FRACTION + _DASH_PRICE_FRACTION)
    ] = "—"
    return price


def _category_lists(rng: np.random.Generator, types: _TypeTable, type_index: np.ndarray) -> list[list[str]]:
    """Main category, subcategory and leaf per item; a few items have an empty list."""
    categories = np.stack(
        [types.main_category[type_index], types.subcategory[type_index], types.leaf_category[type_index]], 1
    )
    categories_list = categories.tolist()
    for i in np.flatnonzero(rng.random(len(type_index)) < _EMPTY_CATEGORIES_FRACTION):
        categories_list[i] = []
    return categories_list


def _features(rng: np.random.Generator, listing: _Listing) -> list[list[str]]:
    """Three features: the title's attribute, another attribute (or a generic one), a generic one."""
    generic = np.array(vocab.GENERIC_FEATURES, dtype=object)
    generic_pick = rng.integers(0, len(generic), size=(len(listing.attribute), 2))
    # Types with a single attribute take a second generic feature instead of repeating it.
    second_feature = np.where(
        listing.has_second_attribute,
        listing.second_attribute,
        generic[(generic_pick[:, 0] + 1) % len(generic)],
    )
    return np.stack([listing.attribute, second_feature, generic[generic_pick[:, 0]]], 1).tolist()


def _descriptions(
    rng: np.random.Generator, listing: _Listing, brand: np.ndarray, main: np.ndarray
) -> list[list[str]]:
    """A first sentence, an opener and sometimes the motivation's use hint; a few descriptions are empty."""
    openers = np.array(vocab.DESCRIPTION_OPENERS, dtype=object)
    hints = np.array([m.use_hint for m in vocab.MOTIVATIONS], dtype=object)
    hint = np.char.capitalize(hints[main].astype(str)).astype(object) + "."
    lower_attribute = np.char.lower(listing.attribute.astype(str)).astype(object)
    first_sentence = listing.model + " " + listing.noun + " by " + brand + ": " + lower_attribute + "."
    opener = openers[rng.integers(0, len(openers), size=len(main))]
    description_kind = rng.random(len(main))
    with_hint = np.stack([first_sentence, opener, hint], 1).tolist()
    without_hint = np.stack([first_sentence, opener], 1).tolist()
    return [
        []
        if kind < _EMPTY_DESCRIPTION_FRACTION
        else (h if kind < _EMPTY_DESCRIPTION_FRACTION + _USE_HINT_FRACTION else w)
        for kind, h, w in zip(description_kind, with_hint, without_hint, strict=True)
    ]


def _generate_items(rng: np.random.Generator, settings: ShopSettings, used: np.ndarray) -> _Items:
    """The catalogue: motivations, product types, listing texts, prices and popularity, in a fixed draw order.

    Each helper draws from ``rng`` in turn, so the order of the calls below fixes the generated shop.
    """
    types = _type_table()
    n_items = settings.n_items
    main, second_motivation, type_index = _item_motivations(rng, settings, used)
    asins = _random_codes(rng, 2 * n_items, b"B0", 8, _ASIN_ALPHABET)
    parent_asin, variant_asin = asins[:n_items], asins[n_items:]
    brand = _brands(rng, main, second_motivation >= 0)
    listing = _listings(rng, types, type_index, brand)
    price = _prices(rng, types, type_index)
    categories = _category_lists(rng, types, type_index)
    features = _features(rng, listing)
    description = _descriptions(rng, listing, brand, main)
    details = [{"Brand": b, "Model Name": m} for b, m in zip(brand, listing.model, strict=True)]
    rank = rng.permutation(n_items)
    popularity = (rank + 1.0) ** (-settings.skew)
    quality = rng.normal(0.0, 0.45, size=n_items)
    meta = pd.DataFrame(
        {
            "main_category": types.main_category[type_index],
            "title": listing.title,
            "features": features,
            "description": description,
            "price": price,
            "store": brand,
            "categories": categories,
            "details": details,
            "parent_asin": parent_asin,
        }
    )
    return _Items(parent_asin, variant_asin, main, second_motivation, popularity, quality, listing.noun, meta)


# ----------------------------------------------------------------------------------------------------
# Users and purchases
# ----------------------------------------------------------------------------------------------------


def _segment_sampler(groups: np.ndarray, weights: np.ndarray, n_groups: int):
    """Return ``sample(group_of_row, uniforms) -> member`` drawing, per row, a member of its group ∝ weight.

    Members of all groups sit in one array sorted by group; the cumulative weights are normalised within
    each group and shifted by the group number, so one ``searchsorted`` serves every group at once.
    """
    order = np.lexsort((np.arange(len(groups)), groups))
    sorted_groups = groups[order]
    sorted_weights = weights[order]
    totals = np.bincount(sorted_groups, weights=sorted_weights, minlength=n_groups)
    cumulative = np.cumsum(sorted_weights)
    group_start = np.concatenate([[0.0], np.cumsum(totals)[:-1]])
    keys = (
        sorted_groups
        + (cumulative - group_start[sorted_groups]) / np.where(totals > 0, totals, 1)[sorted_groups]
    )
    members = order

    def sample(group_of_row: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        position = np.searchsorted(keys, group_of_row + uniforms * (1 - 1e-12), side="right")
        return members[np.minimum(position, len(members) - 1)]

    return sample


def _sequence_lengths(rng: np.random.Generator, settings: ShopSettings) -> np.ndarray:
    """Sequence lengths: 1 + negative binomial with the requested mean, capped."""
    extra_mean = settings.interactions_per_user - 1.0
    if extra_mean > 0:
        p = _LENGTH_DISPERSION / (_LENGTH_DISPERSION + extra_mean)
        lengths = 1 + rng.negative_binomial(_LENGTH_DISPERSION, p, size=settings.n_users)
    else:
        lengths = np.ones(settings.n_users, dtype=np.int64)
    return np.minimum(lengths, _MAX_SEQUENCE_LENGTH)


def _row_motivations(
    rng: np.random.Generator, used: np.ndarray, lengths: np.ndarray, user: np.ndarray, position: np.ndarray
) -> np.ndarray:
    """The motivation behind each purchase row: users hold 1-3 motivations, taken up along the sequence."""
    n_users, n_vocab = len(lengths), len(vocab.MOTIVATIONS)
    # Each user's motivations: 1-3 distinct ones drawn ∝ motivation popularity (Gumbel top-k).
    motivation_weight = np.zeros(n_vocab)
    motivation_weight[used] = (rng.permutation(len(used)) + 1.0) ** (-_MOTIVATION_POPULARITY_SKEW)
    n_pick = min(3, len(used))
    gumbel_keys = np.log(np.where(motivation_weight > 0, motivation_weight, 1e-300)) + rng.gumbel(
        size=(n_users, n_vocab)
    )
    user_motivations = np.argsort(-gumbel_keys, axis=1, kind="stable")[:, :n_pick]
    n_user_motivations = np.minimum(
        rng.choice(np.arange(1, 4), size=n_users, p=_USER_MOTIVATION_COUNT_PROBS), n_pick
    )
    # Later motivations are taken up at random points of the sequence.
    starts = np.sort(rng.random((n_users, n_pick)) * lengths[:, None], axis=1)
    starts[:, 0] = 0.0
    starts[np.arange(n_pick)[None, :] >= n_user_motivations[:, None]] = np.inf
    n_started = (starts[user] <= position[:, None]).sum(axis=1)
    newest = n_started - 1
    any_started = np.floor(rng.random(len(user)) * n_started).astype(np.int64)
    slot = np.where(rng.random(len(user)) < _FOCUS_ON_NEWEST, newest, any_started)
    return user_motivations[user, slot]


def _row_items(
    rng: np.random.Generator, settings: ShopSettings, items: _Items, user: np.ndarray, motivation: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The item of each row (of its motivation, or off-motivation by popularity), and which rows to keep."""
    n_items, n_vocab = settings.n_items, len(vocab.MOTIVATIONS)
    # Items of a motivation: those whose main or second true motivation it is.
    has_second = items.second_motivation >= 0
    member_group = np.concatenate([items.main_motivation, items.second_motivation[has_second]])
    member_item = np.concatenate([np.arange(n_items), np.flatnonzero(has_second)])
    member_sampler = _segment_sampler(member_group, items.popularity[member_item], n_vocab)
    popular_sampler = _segment_sampler(np.zeros(n_items, dtype=np.int64), items.popularity, 1)
    off_motivation = rng.random(len(user)) < settings.off_motivation_fraction

    def draw(rows: np.ndarray) -> np.ndarray:
        chosen = member_item[member_sampler(motivation[rows], rng.random(len(rows)))]
        off = off_motivation[rows]
        chosen[off] = popular_sampler(np.zeros(int(off.sum()), dtype=np.int64), rng.random(int(off.sum())))
        return chosen

    def repeated_rows(rows: np.ndarray) -> np.ndarray:
        # Rows are grouped by user, so checking a subset of whole users finds exactly their repeats.
        return rows[pd.Series(user[rows] * np.int64(n_items) + item[rows]).duplicated().to_numpy()]

    item = draw(np.arange(len(user)))
    # One review per (user, item), as in review data. Re-drawing repeats by popularity approximates
    # sampling without replacement (a heavy buyer moves on to the next most popular items); the few
    # rows still repeating after the last round are dropped.
    repeated = repeated_rows(np.arange(len(user)))
    affected = np.flatnonzero(np.isin(user, np.unique(user[repeated])))
    for _ in range(_RESAMPLE_ROUNDS):
        if len(repeated) == 0:
            break
        item[repeated] = draw(repeated)
        repeated = repeated_rows(affected)
    keep = np.ones(len(user), dtype=bool)
    keep[repeated] = False
    return item, keep


def _row_timestamps(
    rng: np.random.Generator,
    settings: ShopSettings,
    lengths: np.ndarray,
    user: np.ndarray,
    position: np.ndarray,
) -> np.ndarray:
    """A first purchase within the span, then log-normal gaps; millisecond resolution."""
    start_ms = pd.Timestamp(settings.start_date, tz="UTC").value // 1_000_000
    first_ms = start_ms + np.floor(rng.random(settings.n_users) * settings.span_days * 86_400_000).astype(
        np.int64
    )
    gaps_ms = np.floor(
        rng.lognormal(np.log(_MEDIAN_GAP_DAYS * 86_400_000), _GAP_SIGMA, size=len(user))
    ).astype(np.int64)
    gaps_ms = np.maximum(gaps_ms, 60_000)
    gaps_ms[position == 0] = 0
    cumulative = np.cumsum(gaps_ms)
    user_base = np.repeat(cumulative[np.cumsum(lengths) - lengths], lengths)
    return first_ms[user] + cumulative - user_base


def _generate_purchases(
    rng: np.random.Generator, settings: ShopSettings, used: np.ndarray, items: _Items
) -> pd.DataFrame:
    """The purchase log (user, item, timestamp, motivation) in time order; each helper draws in turn."""
    lengths = _sequence_lengths(rng, settings)
    user = np.repeat(np.arange(settings.n_users), lengths)
    position = np.arange(len(user)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    motivation = _row_motivations(rng, used, lengths, user, position)
    item, keep = _row_items(rng, settings, items, user, motivation)
    timestamp = _row_timestamps(rng, settings, lengths, user, position)
    purchases = pd.DataFrame(
        {"user": user[keep], "item": item[keep], "timestamp": timestamp[keep], "motivation": motivation[keep]}
    )
    # The file is a log in time order; ties (rare at ms resolution) broken by user, then item.
    order = np.lexsort((purchases["item"], purchases["user"], purchases["timestamp"]))
    return purchases.iloc[order].reset_index(drop=True)


# ----------------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------------


def _review_table(
    rng: np.random.Generator, settings: ShopSettings, items: _Items, purchases: pd.DataFrame
) -> pd.DataFrame:
    """One review line per purchase, with the fields of Amazon Reviews 2023."""
    n_rows = len(purchases)
    item = purchases["item"].to_numpy()
    user_ids = _random_codes(rng, settings.n_users, b"A", 27, _USER_ALPHABET)
    rating = np.clip(np.rint(4.3 + items.quality[item] + rng.normal(0.0, 1.0, size=n_rows)), 1, 5)
    rating_index = rating.astype(np.int64) - 1
    title_pick = rng.integers(0, 5, size=n_rows)
    sentence_pick = rng.integers(0, 3, size=n_rows)
    review_titles = np.array(vocab.REVIEW_TITLES, dtype=object)
    review_sentences = np.array(vocab.REVIEW_SENTENCES, dtype=object)
    lower_noun = np.char.lower(items.noun.astype(str)).astype(object)
    text = (
        "Ordered the " + lower_noun[item] + " and it " + review_sentences[rating_index, sentence_pick] + "."
    )
    asin = np.where(
        rng.random(n_rows) < _VARIANT_ASIN_FRACTION, items.variant_asin[item], items.parent_asin[item]
    )
    helpful_vote = np.floor(rng.pareto(2.0, size=n_rows)).astype(np.int64)
    verified = rng.random(n_rows) < _VERIFIED_FRACTION
    return pd.DataFrame(
        {
            "rating": rating,
            "title": review_titles[rating_index, title_pick],
            "text": text,
            "images": [[]] * n_rows,
            "asin": asin,
            "parent_asin": items.parent_asin[item],
            "user_id": user_ids[purchases["user"].to_numpy()],
            "timestamp": purchases["timestamp"].to_numpy(),
            "helpful_vote": helpful_vote,
            "verified_purchase": verified,
        }
    )


def _meta_table(items: _Items, item: np.ndarray, rating: np.ndarray, n_items: int) -> pd.DataFrame:
    """The item lines: the generated listing plus the rating summary and the empty media lists."""
    counts = np.bincount(item, minlength=n_items)
    sums = np.bincount(item, weights=rating, minlength=n_items)
    average = np.where(counts > 0, np.round(sums / np.maximum(counts, 1), 1), np.nan)
    meta = items.meta
    meta.insert(2, "average_rating", pd.Series(average).astype(object).where(counts > 0, None))
    meta.insert(3, "rating_number", counts.astype(np.int64))
    meta.insert(7, "images", [[]] * n_items)
    meta.insert(8, "videos", [[]] * n_items)
    return meta


def _truth_table(items: _Items, n_items: int) -> pd.DataFrame:
    """``item_true_motivations``: each item's main and (when it has one) second motivation."""
    names = np.array([m.name for m in vocab.MOTIVATIONS], dtype=object)
    has_second = items.second_motivation >= 0
    truth_item = np.concatenate([np.arange(n_items), np.flatnonzero(has_second)])
    truth_motivation = np.concatenate([items.main_motivation, items.second_motivation[has_second]])
    truth_order = np.lexsort((truth_motivation, truth_item))
    return pd.DataFrame(
        {
            "item_id": pd.array(items.parent_asin[truth_item[truth_order]], dtype="string"),
            "motivation_id": truth_motivation[truth_order].astype(np.int64),
            "motivation": pd.array(names[truth_motivation[truth_order]], dtype="string"),
        }
    )


def generate_shop(settings: ShopSettings | Mapping[str, Any] | None = None) -> ShopTables:
    """Generate the whole shop in memory (deterministic for given settings)."""
    settings = ShopSettings.from_mapping(settings)
    rng = np.random.default_rng(settings.seed)
    n_vocab = len(vocab.MOTIVATIONS)
    used = np.sort(rng.choice(n_vocab, size=settings.n_motivations, replace=False))
    items = _generate_items(rng, settings, used)
    purchases = _generate_purchases(rng, settings, used, items)
    reviews = _review_table(rng, settings, items, purchases)
    meta = _meta_table(items, purchases["item"].to_numpy(), reviews["rating"].to_numpy(), settings.n_items)
    return ShopTables(reviews=reviews, meta=meta, item_true_motivations=_truth_table(items, settings.n_items))


def _jsonl_bytes(frame: pd.DataFrame) -> bytes:
    text = frame.to_json(orient="records", lines=True, force_ascii=False, double_precision=10)
    return text.encode("utf-8") if text.endswith("\n") else (text + "\n").encode("utf-8")


def _json_strings(values: np.ndarray | pd.Series) -> pa.Array:
    """JSON-encode a string column by encoding each distinct value once (columns repeat a lot)."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    encoded = pa.array([json.dumps(str(value), ensure_ascii=False) for value in uniques], type=pa.string())
    return encoded.take(pa.array(codes))


def _reviews_jsonl_bytes(reviews: pd.DataFrame) -> bytes:
    """The reviews as JSON lines, field order and spacing as in the Amazon 2023 files.

    Built column-wise with Arrow's string kernels: several times faster than ``DataFrame.to_json`` on a
    million rows, which matters for the benchmark-size shop. Ids are plain ASCII letters and digits by
    construction, so they need no escaping.
    """
    if reviews.empty:
        return b""
    ratings = pa.array(["1.0", "2.0", "3.0", "4.0", "5.0"])
    booleans = pa.array(["false", "true"])

    def plain(column: str) -> pa.Array:
        return pa.array(reviews[column].to_numpy(dtype=object), type=pa.string())

    def number(column: str) -> pa.Array:
        return pc.cast(pa.array(reviews[column].to_numpy()), pa.string())

    pieces = [
        '{"rating": ',
        ratings.take(pa.array(reviews["rating"].to_numpy().astype(np.int64) - 1)),
        ', "title": ',
        _json_strings(reviews["title"]),
        ', "text": ',
        _json_strings(reviews["text"]),
        ', "images": [], "asin": "',
        plain("asin"),
        '", "parent_asin": "',
        plain("parent_asin"),
        '", "user_id": "',
        plain("user_id"),
        '", "timestamp": ',
        number("timestamp"),
        ', "helpful_vote": ',
        number("helpful_vote"),
        ', "verified_purchase": ',
        booleans.take(pa.array(reviews["verified_purchase"].to_numpy().astype(np.int64))),
        "}\n",
    ]
    lines = pc.binary_join_element_wise(*pieces, "")
    # The value buffer of a fresh string array is exactly the lines back to back.
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4)
    return lines.buffers()[2].to_pybytes()[offsets[0] : offsets[-1]]


def _inject_noise(lines: bytes, noise: float, rng: np.random.Generator) -> bytes:
    """Insert a few malformed lines for demos: truncated JSON, a missing field, a repeat, bad bytes."""
    rows = lines.rstrip(b"\n").split(b"\n")
    n_bad = max(1, round(noise * len(rows)))
    source = rng.integers(0, len(rows), size=n_bad)
    kinds = np.arange(n_bad) % 4
    bad = []
    for kind, index in zip(kinds, source, strict=True):
        line = rows[index]
        if kind == 0:
            bad.append(line[: len(line) // 2])
        elif kind == 1:
            record = json.loads(line)
            record.pop("user_id")
            bad.append(json.dumps(record, ensure_ascii=False).encode())
        elif kind == 2:
            bad.append(line)
        else:
            bad.append(
                line.replace(b'"text": "', b'"text": "\xff\xfe', 1).replace(
                    b'"text":"', b'"text":"\xff\xfe', 1
                )
            )
    positions = np.sort(rng.integers(0, len(rows) + 1, size=n_bad))
    out = []
    previous = 0
    for position, line in zip(positions, bad, strict=True):
        out.extend(rows[previous:position])
        out.append(line)
        previous = position
    out.extend(rows[previous:])
    return b"\n".join(out) + b"\n"


def _gzip_bytes(data: bytes) -> bytes:
    # mtime=0 and no file name in the header: identical inputs give identical bytes.
    return gzip.compress(data, compresslevel=1, mtime=0)


def shop_file_bytes(tables: ShopTables, settings: ShopSettings) -> dict[str, bytes]:
    """Serialise the tables to the bytes of the three files (reviews and meta gzipped JSONL, truth Parquet)."""
    reviews = _reviews_jsonl_bytes(tables.reviews)
    if settings.noise > 0:
        reviews = _inject_noise(reviews, settings.noise, np.random.default_rng([settings.seed, 1]))
    meta = _jsonl_bytes(tables.meta)
    truth_buffer = pd.io.common.BytesIO()
    tables.item_true_motivations.to_parquet(truth_buffer, index=False)
    return {
        REVIEWS_FILENAME: _gzip_bytes(reviews),
        META_FILENAME: _gzip_bytes(meta),
        TRUTH_FILENAME: truth_buffer.getvalue(),
    }


def _atomic_write(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temporary, 0o644)  # mkstemp makes owner-only files; these are ordinary data files
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_manifest(directory: str | Path) -> dict[str, Any] | None:
    """The manifest of a generated shop directory, or None when it is missing or unreadable."""
    path = Path(directory) / MANIFEST_FILENAME
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def shop_is_current(directory: str | Path, settings: ShopSettings) -> bool:
    """True when the directory holds complete files generated with exactly these settings."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    if manifest is None or manifest.get("fingerprint") != settings.fingerprint():
        return False
    sizes = manifest.get("file_sizes", {})
    return all(
        (directory / name).is_file() and (directory / name).stat().st_size == sizes.get(name)
        for name in (REVIEWS_FILENAME, META_FILENAME, TRUTH_FILENAME)
    )


def ensure_shop(directory: str | Path, settings: ShopSettings | Mapping[str, Any] | None = None) -> bool:
    """Make sure ``directory`` holds the shop for ``settings``; generate it when not. Returns True if written.

    The files go to temporary names and are renamed into place; the manifest is removed first and
    written last, so a crash at any point leaves a directory that is regenerated on the next call.
    """
    settings = ShopSettings.from_mapping(settings)
    directory = Path(directory)
    if shop_is_current(directory, settings):
        return False
    directory.mkdir(parents=True, exist_ok=True)
    files = shop_file_bytes(generate_shop(settings), settings)
    (directory / MANIFEST_FILENAME).unlink(missing_ok=True)
    for name, data in files.items():
        _atomic_write(directory / name, data)
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "fingerprint": settings.fingerprint(),
        "settings": dataclasses.asdict(settings),
        "file_sizes": {name: len(data) for name, data in files.items()},
        "file_sha256": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
    }
    _atomic_write(
        directory / MANIFEST_FILENAME, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    )
    return True


def expected_interactions(settings: ShopSettings) -> float:
    """The expected raw number of review lines before (user, item) repeats are dropped."""
    return settings.n_users * min(settings.interactions_per_user, _MAX_SEQUENCE_LENGTH)


__all__ = [
    "GENERATOR_VERSION",
    "META_FILENAME",
    "MANIFEST_FILENAME",
    "REVIEWS_FILENAME",
    "TRUTH_FILENAME",
    "ShopSettings",
    "ShopTables",
    "ensure_shop",
    "generate_shop",
    "read_manifest",
    "shop_file_bytes",
    "shop_is_current",
]
