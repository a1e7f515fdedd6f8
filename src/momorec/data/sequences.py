"""Per-user chronological sequences split leave-one-out, and the padded arrays models train and score on.

Convention shared by every model: item ``i`` (0-based ``item_idx``) is token ``i + 1``; token 0 is padding;
sequences are left-padded so the last column is always the most recent item. Every pipeline that trains
or scores a sequential model builds its sequences here (:func:`build_user_sequences`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

REQUIRED_COLUMNS = ("user_idx", "item_idx", "position", "split")
SPLITS = ("valid", "test")


def _gather_right_aligned(
    offsets: np.ndarray, items: np.ndarray, ends: np.ndarray, starts: np.ndarray, width: int
):
    """Rows of ``items[offsets[r] + starts[r] : offsets[r] + ends[r]]`` as tokens, right-aligned in ``width``."""
    columns = np.arange(width)
    positions = ends[:, None] - width + columns[None, :]
    present = positions >= starts[:, None]
    flat = offsets[:, None] + np.where(present, positions, 0)
    flat = np.clip(flat, 0, max(len(items) - 1, 0))
    tokens = np.where(present, items[flat] + 1 if len(items) else 0, 0)
    return tokens.astype(np.int64)


@dataclass
class UserSequences:
    """Training prefixes (CSR), validation and test targets (-1 = none) for every user.

    ``train_items[train_offsets[u]:train_offsets[u+1]]`` is user ``u``'s training prefix, oldest first.
    Only the training prefix is ever used to build training examples.
    """

    user_idx: np.ndarray
    train_offsets: np.ndarray
    train_items: np.ndarray
    valid_items: np.ndarray
    test_items: np.ndarray
    n_items: int

    @classmethod
    def from_interactions(cls, interactions: pd.DataFrame, n_items: int | None = None) -> UserSequences:
        """Build from the ``interactions`` table (user_idx, item_idx, position, split in {train, valid, test})."""
        missing = [c for c in REQUIRED_COLUMNS if c not in interactions.columns]
        if missing:
            raise ValueError(f"interactions: missing column(s) {missing}; need {list(REQUIRED_COLUMNS)}")
        bad_split = set(interactions["split"].unique()) - {"train", "valid", "test"}
        if bad_split:
            raise ValueError(f"interactions.split: unexpected value(s) {sorted(bad_split)}")
        table = interactions.sort_values(["user_idx", "position"], kind="stable")
        user_ids = np.sort(table["user_idx"].unique()).astype(np.int64)
        user_row = pd.Series(np.arange(len(user_ids)), index=user_ids)
        max_item = int(table["item_idx"].max()) if len(table) else -1
        n_items = int(n_items if n_items is not None else max_item + 1)
        if max_item >= n_items or (len(table) and int(table["item_idx"].min()) < 0):
            raise ValueError(f"interactions.item_idx: values outside 0..{n_items - 1}")

        train = table[table["split"] == "train"]
        counts = np.bincount(user_row[train["user_idx"].to_numpy()].to_numpy(), minlength=len(user_ids))
        offsets = np.zeros(len(user_ids) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        targets = {}
        for split in SPLITS:
            rows = table[table["split"] == split]
            if rows["user_idx"].duplicated().any():
                raise ValueError(
                    f"interactions: more than one '{split}' row for some user (leave-one-out expected)"
                )
            target = np.full(len(user_ids), -1, dtype=np.int64)
            target[user_row[rows["user_idx"].to_numpy()].to_numpy()] = rows["item_idx"].to_numpy()
            targets[split] = target
        return cls(
            user_idx=user_ids,
            train_offsets=offsets,
            train_items=train["item_idx"].to_numpy().astype(np.int64),
            valid_items=targets["valid"],
            test_items=targets["test"],
            n_items=n_items,
        )

    @classmethod
    def empty(cls, n_items: int) -> UserSequences:
        """No users, only the catalogue size: what rebuilding a trained network needs (its item features,
        such as codes, frozen vectors or gate inputs, come back with its weights)."""
        if n_items < 1:
            raise ValueError(f"n_items must be >= 1, got {n_items}")
        none = np.zeros(0, dtype=np.int64)
        return cls(none, np.zeros(1, dtype=np.int64), none, none, none, int(n_items))

    @property
    def n_users(self) -> int:
        return len(self.user_idx)

    @property
    def train_lengths(self) -> np.ndarray:
        return np.diff(self.train_offsets)

    def training_windows(self, max_length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Next-item examples from the training prefixes only: ``(users, inputs, targets)``.

        Each row holds up to ``max_length`` consecutive (input, next item) pairs, right-aligned; a long prefix
        is cut into several windows from its end so every training transition is a target exactly once.
        """
        n_targets = np.maximum(self.train_lengths - 1, 0)
        n_windows = -(-n_targets // max_length)
        users = np.repeat(np.arange(self.n_users), n_windows)
        # Window j of a user (counted from the end) predicts positions [end - max_length, end), end = n - j*L.
        first_window = np.repeat(np.cumsum(n_windows) - n_windows, n_windows)
        j = np.arange(len(users)) - first_window
        ends = self.train_lengths[users] - j * max_length
        starts = np.maximum(ends - max_length, 1)
        offsets = self.train_offsets[users]
        targets = _gather_right_aligned(offsets, self.train_items, ends, starts, max_length)
        inputs = _gather_right_aligned(offsets, self.train_items, ends - 1, starts - 1, max_length)
        return users, inputs, targets

    def history(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """The items a model may see before ``split``'s target, as CSR ``(offsets, items)``.

        valid: the training prefix. test: the training prefix followed by the validation item.
        """
        if split == "valid":
            return self.train_offsets, self.train_items
        if split != "test":
            raise ValueError(f"split must be 'valid' or 'test', got {split!r}")
        has_valid = (self.valid_items >= 0).astype(np.int64)
        lengths = self.train_lengths + has_valid
        offsets = np.zeros(self.n_users + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        items = np.empty(offsets[-1], dtype=np.int64)
        # Training items keep their order; the validation item goes to the end of each user's block.
        train_user = np.repeat(np.arange(self.n_users), self.train_lengths)
        within = np.arange(len(self.train_items)) - self.train_offsets[train_user]
        items[offsets[train_user] + within] = self.train_items
        with_valid = np.flatnonzero(has_valid)
        items[offsets[with_valid + 1] - 1] = self.valid_items[with_valid]
        return offsets, items

    def evaluation_inputs(self, split: str, max_length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(user_rows, inputs, targets)`` for users that have a ``split`` target; inputs are tokens."""
        offsets, items = self.history(split)
        targets = self.valid_items if split == "valid" else self.test_items
        rows = np.flatnonzero(targets >= 0)
        lengths = np.diff(offsets)[rows]
        inputs = _gather_right_aligned(
            offsets[rows], items, lengths, np.maximum(lengths - max_length, 0), max_length
        )
        return rows, inputs, targets[rows]

    def item_train_frequency(self) -> np.ndarray:
        """How often each item occurs in the training prefixes (the most-popular baseline's scores)."""
        return np.bincount(self.train_items, minlength=self.n_items).astype(np.float32)


def build_user_sequences(interactions: pd.DataFrame, items: pd.DataFrame) -> UserSequences:
    """Per-user training prefixes and validation/test targets from ``interactions`` (with the split column)."""
    if "item_idx" not in items.columns:
        raise ValueError("items: missing column item_idx")
    n_items = int(items["item_idx"].max()) + 1 if len(items) else 0
    if n_items != len(items):
        raise ValueError(f"items.item_idx: expected contiguous ids 0..{len(items) - 1}, max is {n_items - 1}")
    return UserSequences.from_interactions(interactions, n_items=n_items)
