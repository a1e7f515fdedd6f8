"""Readers that turn each supported source format into a :class:`~momorec.data.raw_log.RawLog`.

Four formats (``../shared/docs/formats.md``):

- Amazon Reviews 2023 JSON lines, plain or gzipped (:func:`read_amazon2023`), streamed in chunks;
- LC-Rec / LETTER JSON (:func:`read_lcrec`), which has an order but no timestamps;
- MovieLens 100K original files (:func:`read_movielens`);
- generic CSV / Parquet with the common column names (:func:`read_tabular`).

Every reader returns the two common tables with the dtypes of ``INTERACTION_COLUMNS`` / ``ITEM_COLUMNS``
and a ``parse_report``: per file, the rows read and kept and, per problem, a count and the first few line
numbers. Rows a reader cannot use are counted there, never dropped silently; a file that is empty, has no
usable row, or is mostly unusable raises :class:`LogFormatError` naming the file and the problem.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from momorec.data.raw_log import INTERACTION_COLUMNS, ITEM_COLUMNS, RawLog

try:  # orjson parses review lines several times faster; the stdlib parser is the fallback.
    import orjson

    _json_loads = orjson.loads
    _JSON_ERRORS: tuple[type[Exception], ...] = (orjson.JSONDecodeError, ValueError)
except ImportError:  # pragma: no cover - orjson ships with mlflow's dependencies
    _json_loads = json.loads
    _JSON_ERRORS = (ValueError,)

#: How many line numbers each problem keeps as examples.
MAX_EXAMPLES = 5
#: Timestamps at or above this are milliseconds: 1e11 s is the year 5138, 1e11 ms is March 1973.
MILLISECONDS_THRESHOLD = 100_000_000_000
#: Separator used when a category path arrives as a list or a comma-joined string.
CATEGORY_PATH_SEPARATOR = " > "


class LogFormatError(ValueError):
    """A source file cannot be used: it is missing, empty, lacks required fields or is mostly unparseable."""


class ProblemLog:
    """Counts of one file's problems, each with the first few line numbers where it occurred."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.rows_read = 0
        self.rows_kept = 0
        self.problems: dict[str, dict[str, Any]] = {}
        self.notes: dict[str, Any] = {}

    def add(self, problem: str, line_numbers: Any, count: int | None = None) -> None:
        """Record ``problem`` at the given 1-based line numbers (a number or any iterable of them)."""
        lines = [int(x) for x in np.atleast_1d(np.asarray(line_numbers))]
        n = len(lines) if count is None else count
        if n == 0:
            return
        entry = self.problems.setdefault(problem, {"count": 0, "first_lines": []})
        entry["count"] += n
        room = MAX_EXAMPLES - len(entry["first_lines"])
        if room > 0:
            entry["first_lines"].extend(lines[:room])

    def summary(self) -> str:
        if not self.problems:
            return "no problems recorded"
        return "; ".join(
            f"{name}: {p['count']} (first lines {p['first_lines']})" for name, p in self.problems.items()
        )

    def check_usable(self, max_bad_fraction: float, what: str = "rows") -> None:
        """Raise when the file gave nothing usable or more than ``max_bad_fraction`` of it was unusable."""
        if self.rows_read == 0:
            raise LogFormatError(f"{self.path}: the file is empty (no {what} to read)")
        if self.rows_kept == 0:
            raise LogFormatError(f"{self.path}: no usable {what} out of {self.rows_read}; {self.summary()}")
        bad = self.rows_read - self.rows_kept
        if bad / self.rows_read > max_bad_fraction:
            raise LogFormatError(
                f"{self.path}: {bad} of {self.rows_read} {what} are unusable "
                f"(more than {max_bad_fraction:.0%}); {self.summary()}"
            )

    def as_dict(self) -> dict[str, Any]:
        out = {"rows_read": self.rows_read, "rows_kept": self.rows_kept, "problems": self.problems}
        out.update(self.notes)
        return out


# --------------------------------------------------------------------------------------------- helpers


def _require_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise LogFormatError(f"{path}: file not found")
    return path


def _open_binary(path: Path) -> io.BufferedIOBase:
    """Open plain or gzipped files alike (gzip is detected from the magic bytes, not the name)."""
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        # GzipFile.readline is pure Python; a BufferedReader on top splits lines in C (about 3x faster).
        return io.BufferedReader(gzip.GzipFile(path, "rb"), buffer_size=1 << 20)
    return path.open("rb", buffering=1 << 20)


def _iter_json_lines(path: Path, problems: ProblemLog) -> Iterator[tuple[int, dict]]:
    """Yield (1-based line number, object) for each JSON-object line; record everything else.

    Blank lines are skipped without counting. Bytes that are not UTF-8 are replaced (U+FFFD) and the line
    is kept, because the broken bytes usually sit in free text the reader does not use.
    """
    with _open_binary(path) as handle:
        for line_no, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            problems.rows_read += 1
            try:
                record = _json_loads(raw)  # bytes straight in: the parser checks UTF-8 itself
            except _JSON_ERRORS:
                record = _parse_bad_line(raw, line_no, problems)
                if record is None:
                    continue
            if not isinstance(record, dict):
                problems.add("not_a_json_object", line_no)
                continue
            yield line_no, record


def _parse_bad_line(raw: bytes, line_no: int, problems: ProblemLog) -> Any:
    """A line the fast path refused: retry with non-UTF-8 bytes replaced, else record it as malformed."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        problems.add("non_utf8_bytes_replaced", line_no)
        try:
            return _json_loads(raw.decode("utf-8", errors="replace"))
        except _JSON_ERRORS:
            pass
    problems.add("malformed_json", line_no)
    return None


def _blank_to_na(values: pd.Series) -> pd.Series:
    """Strings that are empty or only whitespace count as missing."""
    values = values.astype("string").str.strip()
    return values.mask(values == "")


def _timestamps_to_seconds(
    values: pd.Series, line_numbers: np.ndarray, problems: ProblemLog
) -> tuple[pd.Series, np.ndarray]:
    """Coerce to int64 Unix seconds; values that look like milliseconds are divided by 1000.

    Returns the converted values and a mask of usable rows; unusable ones are recorded as
    ``missing_timestamp`` or ``bad_timestamp``.
    """
    missing = values.isna().to_numpy()
    numeric = pd.to_numeric(values, errors="coerce")
    bad = numeric.isna().to_numpy() & ~missing
    negative = (numeric < 0).fillna(False).to_numpy()
    problems.add("missing_timestamp", line_numbers[missing])
    problems.add("bad_timestamp", line_numbers[bad | negative])
    ok = ~(missing | bad | negative)
    as_float = numeric.to_numpy(dtype="float64", na_value=np.nan)
    is_ms = ok & (as_float >= MILLISECONDS_THRESHOLD)
    seconds = np.where(is_ms, np.floor_divide(np.nan_to_num(as_float), 1000), np.nan_to_num(as_float))
    units = problems.notes.setdefault("timestamp_units", {"seconds": 0, "milliseconds": 0})
    units["milliseconds"] += int(is_ms.sum())
    units["seconds"] += int((ok & ~is_ms).sum())
    return pd.Series(seconds.astype("int64"), index=values.index), ok


def _to_float(values: pd.Series) -> pd.Series:
    """Numbers, numeric strings and prices like "$1,299.00" to float; anything else ("—", "N/A") to NaN."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    text = values.astype("string").str.replace(r"[$,\s]", "", regex=True)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def _join_text(value: Any, sep: str) -> Any:
    """A list of strings joined with ``sep``; a plain string kept; anything empty becomes None."""
    if isinstance(value, list):
        parts = [str(v).strip() for v in value if v is not None and str(v).strip()]
        return sep.join(parts) if parts else None
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _category_path(value: Any) -> Any:
    """A category path as ``A > B > C`` whether it arrives as a list or a comma-joined string."""
    if isinstance(value, str):
        value = value.split(",")
    return _join_text(value, CATEGORY_PATH_SEPARATOR)


def _finish_interactions(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[list(INTERACTION_COLUMNS)].astype(INTERACTION_COLUMNS).reset_index(drop=True)


def _finish_items(frame: pd.DataFrame) -> pd.DataFrame:
    for column in ITEM_COLUMNS:
        if column not in frame:
            frame[column] = None
    frame = frame[list(ITEM_COLUMNS)].copy()
    for column in ("item_id", "title", "category", "brand", "description"):
        frame[column] = _blank_to_na(frame[column])
    frame["price"] = _to_float(frame["price"])
    return frame.astype(ITEM_COLUMNS).reset_index(drop=True)


# ------------------------------------------------------------------------------------ Amazon 2023 JSONL

# The review fields kept per chunk; everything else on the line (text, images, ...) is dropped at once.
_REVIEW_FIELDS = ("user_id", "parent_asin", "asin", "timestamp", "rating")


def _review_chunk(rows: list[tuple], problems: ProblemLog) -> pd.DataFrame:
    """Turn one chunk of (line, user_id, parent_asin, asin, timestamp, rating) tuples into a typed frame."""
    chunk = pd.DataFrame(rows, columns=("line", *_REVIEW_FIELDS))
    lines = chunk["line"].to_numpy()
    user = _blank_to_na(chunk["user_id"].astype("string"))
    item = _blank_to_na(chunk["parent_asin"].astype("string"))
    # parent_asin is the item id; an older line without it falls back to its variant asin, reported.
    asin = _blank_to_na(chunk["asin"].astype("string"))
    use_asin = item.isna() & asin.notna()
    problems.add("parent_asin_missing_used_asin", lines[use_asin.to_numpy()])
    item = item.where(~use_asin, asin)
    no_user = user.isna().to_numpy()
    no_item = item.isna().to_numpy()
    problems.add("missing_user_id", lines[no_user])
    problems.add("missing_item_id", lines[no_item & ~no_user])
    timestamp, ts_ok = _timestamps_to_seconds(chunk["timestamp"], lines, problems)
    rating = _to_float(chunk["rating"])
    problems.add(
        "unparseable_rating_set_to_null", lines[(rating.isna() & chunk["rating"].notna()).to_numpy()]
    )
    keep = ~no_user & ~no_item & ts_ok
    out = pd.DataFrame(
        {"user_id": user[keep], "item_id": item[keep], "timestamp": timestamp[keep], "rating": rating[keep]}
    )
    return _finish_interactions(out)


def _read_reviews(path: Path, chunk_size: int, problems: ProblemLog) -> pd.DataFrame:
    chunks: list[pd.DataFrame] = []
    rows: list[tuple] = []
    for line_no, record in _iter_json_lines(path, problems):
        get = record.get
        rows.append(
            (line_no, get("user_id"), get("parent_asin"), get("asin"), get("timestamp"), get("rating"))
        )
        if len(rows) >= chunk_size:
            chunks.append(_review_chunk(rows, problems))
            rows = []
    if rows:
        chunks.append(_review_chunk(rows, problems))
    frame = (
        pd.concat(chunks, ignore_index=True)
        if chunks
        else _finish_interactions(pd.DataFrame(columns=list(INTERACTION_COLUMNS)))
    )
    problems.rows_kept = len(frame)
    return frame


def _meta_chunk(rows: list[tuple], problems: ProblemLog) -> pd.DataFrame:
    chunk = pd.DataFrame(
        rows, columns=("line", "item_id", "title", "category", "brand", "description", "price")
    )
    lines = chunk["line"].to_numpy()
    chunk["item_id"] = _blank_to_na(chunk["item_id"].astype("string"))
    missing_id = chunk["item_id"].isna().to_numpy()
    problems.add("missing_parent_asin", lines[missing_id])
    price = _to_float(chunk["price"].astype("object"))
    problems.add("unparseable_price_set_to_null", lines[(price.isna() & chunk["price"].notna()).to_numpy()])
    chunk["price"] = price
    return _finish_items(chunk[~missing_id].drop(columns="line"))


def _read_meta(path: Path, chunk_size: int, problems: ProblemLog) -> pd.DataFrame:
    chunks: list[pd.DataFrame] = []
    rows: list[tuple] = []
    for line_no, record in _iter_json_lines(path, problems):
        get = record.get
        # The category path when present, else the top-level category; `bought_together` is never read.
        category = _category_path(get("categories")) or _join_text(get("main_category"), " ")
        rows.append(
            (
                line_no,
                get("parent_asin"),
                _join_text(get("title"), " "),
                category,
                _join_text(get("store"), " "),
                _join_text(get("description"), " "),
                get("price"),
            )
        )
        if len(rows) >= chunk_size:
            chunks.append(_meta_chunk(rows, problems))
            rows = []
    if rows:
        chunks.append(_meta_chunk(rows, problems))
    frame = pd.concat(chunks, ignore_index=True) if chunks else _finish_items(pd.DataFrame())
    problems.rows_kept = len(frame)
    return frame


def read_amazon2023(
    reviews_path: str | Path,
    meta_path: str | Path,
    chunk_size: int = 100_000,
    *,
    max_bad_fraction: float = 0.5,
) -> RawLog:
    """Read an Amazon Reviews 2023 category: ``<Category>.jsonl(.gz)`` and ``meta_<Category>.jsonl(.gz)``.

    Lines are parsed one at a time and gathered ``chunk_size`` at a time into small typed frames holding only
    the needed fields, so a multi-GB file is never held in memory as text and as a table at once.
    ``parent_asin`` is the item id; millisecond timestamps are converted to seconds (detected per value);
    prices that are not numbers ("—") become null; ``categories`` is joined into a path (falling back to
    ``main_category``), ``store`` is the brand, the ``description`` list is joined into one text.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    reviews_path, meta_path = _require_file(reviews_path), _require_file(meta_path)
    review_problems, meta_problems = ProblemLog(reviews_path), ProblemLog(meta_path)
    interactions = _read_reviews(reviews_path, chunk_size, review_problems)
    review_problems.check_usable(max_bad_fraction, "review lines")
    items = _read_meta(meta_path, chunk_size, meta_problems)
    meta_problems.check_usable(max_bad_fraction, "item lines")
    return RawLog(
        interactions=interactions,
        items=items,
        source=f"amazon2023:{reviews_path}",
        parse_report={str(reviews_path): review_problems.as_dict(), str(meta_path): meta_problems.as_dict()},
    )


# ---------------------------------------------------------------------------------------- LC-Rec JSON


def _load_json_document(path: Path, problems: ProblemLog) -> Any:
    raw = _require_file(path).read_bytes()
    if not raw.strip():
        raise LogFormatError(f"{path}: the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        problems.add("non_utf8_bytes_replaced", [], count=1)
        problems.notes["first_non_utf8_byte_offset"] = error.start
        text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise LogFormatError(
            f"{path}: malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from error


def read_lcrec(inter_path: str | Path, item_path: str | Path, *, max_bad_fraction: float = 0.5) -> RawLog:
    """Read LC-Rec / LETTER JSON: ``{"user": [item, ...]}`` (oldest first) and ``{"item": {title, ...}}``.

    There are no timestamps: an interaction's timestamp is its 0-based position in the user's list, which
    keeps the given order through the chronological sort. Ratings are null. The comma-joined
    ``categories`` string becomes an ``A > B > C`` path. Line numbers in the report are entry numbers
    (1-based) in the JSON object, because the whole file is one JSON document.
    """
    inter_path, item_path = Path(inter_path), Path(item_path)
    inter_problems, item_problems = ProblemLog(inter_path), ProblemLog(item_path)

    sequences = _load_json_document(inter_path, inter_problems)
    if not isinstance(sequences, dict):
        raise LogFormatError(
            f"{inter_path}: expected a JSON object of user -> item list, got {type(sequences).__name__}"
        )
    users = list(sequences.keys())
    entry_numbers = np.arange(1, len(users) + 1)
    is_list = np.array([isinstance(v, list) for v in sequences.values()], dtype=bool)
    inter_problems.add("sequence_not_a_list", entry_numbers[~is_list])
    lists = [v for v in sequences.values() if isinstance(v, list)]
    lengths = np.array([len(v) for v in lists], dtype=np.int64)
    user_ids = np.repeat(np.asarray(users, dtype=object)[is_list], lengths)
    entry_of_row = np.repeat(entry_numbers[is_list], lengths)
    flat = pd.Series([x for seq in lists for x in seq], dtype="object")
    item_ids = _blank_to_na(flat.map(lambda x: None if x is None or isinstance(x, dict | list) else str(x)))
    inter_problems.rows_read = len(flat)
    missing_item = item_ids.isna().to_numpy()
    inter_problems.add("missing_item_id", entry_of_row[missing_item])
    starts = np.cumsum(lengths) - lengths
    positions = np.arange(len(flat), dtype=np.int64) - np.repeat(starts, lengths)
    interactions = pd.DataFrame(
        {"user_id": user_ids, "item_id": item_ids, "timestamp": positions, "rating": np.nan}
    )[~missing_item]
    interactions = _finish_interactions(interactions)
    inter_problems.rows_kept = len(interactions)
    inter_problems.notes["timestamps"] = "position in the user's sequence (the format has no times)"
    inter_problems.check_usable(max_bad_fraction, "interactions")

    catalogue = _load_json_document(item_path, item_problems)
    if not isinstance(catalogue, dict):
        raise LogFormatError(
            f"{item_path}: expected a JSON object of item -> fields, got {type(catalogue).__name__}"
        )
    item_problems.rows_read = len(catalogue)
    records = list(catalogue.values())
    is_object = np.array([isinstance(r, dict) for r in records], dtype=bool)
    item_problems.add("item_entry_not_an_object", np.arange(1, len(records) + 1)[~is_object])
    kept = [r for r in records if isinstance(r, dict)]
    items = pd.DataFrame(
        {
            "item_id": [k for k, ok in zip(catalogue.keys(), is_object, strict=True) if ok],
            "title": [_join_text(r.get("title"), " ") for r in kept],
            "category": [_category_path(r.get("categories")) for r in kept],
            "brand": [_join_text(r.get("brand"), " ") for r in kept],
            "description": [_join_text(r.get("description"), " ") for r in kept],
            "price": [r.get("price") for r in kept],
        }
    )
    items = _finish_items(items)
    item_problems.rows_kept = len(items)
    item_problems.check_usable(max_bad_fraction, "items")
    return RawLog(
        interactions=interactions,
        items=items,
        source=f"lcrec:{inter_path}",
        parse_report={str(inter_path): inter_problems.as_dict(), str(item_path): item_problems.as_dict()},
    )


# ------------------------------------------------------------------------------------------ MovieLens


def _read_delimited(
    path: Path, sep: str, names: list[str], encoding: str, problems: ProblemLog
) -> tuple[pd.DataFrame, np.ndarray]:
    """Read a headerless delimited file as strings; lines with the wrong field count are recorded.

    Returns the frame and the 1-based line number of each row.
    """
    raw = _require_file(path).read_bytes()
    if encoding == "utf-8":
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="replace")
            bad_lines = [i for i, line in enumerate(raw.splitlines(), 1) if _not_utf8(line)]
            problems.add("non_utf8_bytes_replaced", bad_lines)
    else:
        text = raw.decode(encoding)
    lines = pd.Series(text.splitlines(), dtype="object")
    line_numbers = np.arange(1, len(lines) + 1)
    blank = lines.str.strip().eq("").to_numpy()
    lines, line_numbers = lines[~blank], line_numbers[~blank]
    problems.rows_read = len(lines)
    fields = lines.str.split(sep, regex=False)
    right_width = fields.str.len().eq(len(names)).to_numpy()
    problems.add("wrong_number_of_fields", line_numbers[~right_width])
    frame = (
        pd.DataFrame(fields[right_width].tolist(), columns=names)
        if right_width.any()
        else pd.DataFrame(columns=names)
    )
    return frame, line_numbers[right_width]


def _not_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def read_movielens(data_dir: str | Path, *, max_bad_fraction: float = 0.5) -> RawLog:
    """Read MovieLens 100K: ``u.data`` (tab-separated ratings, Unix seconds), ``u.item`` (latin-1) and ``u.genre``.

    Every rating is an interaction. An item's genres, joined with ", " in ``u.genre`` order, are its category;
    MovieLens has no brand, description or price. The placeholder title "unknown" (item 267 of ML-100K) is
    reported and set to null, so validation counts it as an item without a title.
    """
    data_dir = Path(data_dir)
    data_path, item_path, genre_path = data_dir / "u.data", data_dir / "u.item", data_dir / "u.genre"
    data_problems, item_problems = ProblemLog(data_path), ProblemLog(item_path)

    ratings, lines = _read_delimited(
        data_path, "\t", ["user_id", "item_id", "rating", "timestamp"], "utf-8", data_problems
    )
    user = _blank_to_na(ratings["user_id"])
    item = _blank_to_na(ratings["item_id"])
    data_problems.add("missing_user_id", lines[user.isna().to_numpy()])
    data_problems.add("missing_item_id", lines[(item.isna() & user.notna()).to_numpy()])
    timestamp, ts_ok = _timestamps_to_seconds(_blank_to_na(ratings["timestamp"]), lines, data_problems)
    rating = _to_float(_blank_to_na(ratings["rating"]))
    data_problems.add(
        "unparseable_rating_set_to_null", lines[(rating.isna() & ratings["rating"].notna()).to_numpy()]
    )
    keep = user.notna().to_numpy() & item.notna().to_numpy() & ts_ok
    interactions = _finish_interactions(
        pd.DataFrame({"user_id": user, "item_id": item, "timestamp": timestamp, "rating": rating})[keep]
    )
    data_problems.rows_kept = len(interactions)
    data_problems.check_usable(max_bad_fraction, "ratings")

    genre_table = pd.read_csv(
        _require_file(genre_path), sep="|", header=None, names=["genre", "index"], dtype=str
    )
    genre_table = genre_table.dropna().astype({"index": int}).sort_values("index")
    genres = genre_table["genre"].tolist()
    base = ["item_id", "title", "release_date", "video_release_date", "imdb_url"]
    catalogue, item_lines = _read_delimited(item_path, "|", base + genres, "latin-1", item_problems)
    flags = catalogue[genres].apply(pd.to_numeric, errors="coerce").fillna(0).astype(bool)
    # Vectorised "join the names of the set flags": each True contributes "name, ".
    category = flags.dot(pd.Series([g + ", " for g in genres], index=genres)).str.rstrip(", ")
    # MovieLens marks a film it could not identify with the title "unknown": that is a missing title.
    placeholder = catalogue["title"].str.strip().str.lower().eq("unknown").to_numpy()
    item_problems.add("placeholder_title_unknown_set_to_null", item_lines[placeholder])
    title = catalogue["title"].mask(placeholder)
    items = _finish_items(
        pd.DataFrame({"item_id": catalogue["item_id"], "title": title, "category": category})
    )
    item_problems.rows_kept = len(items)
    item_problems.check_usable(max_bad_fraction, "items")
    return RawLog(
        interactions=interactions,
        items=items,
        source=f"movielens:{data_dir}",
        parse_report={str(data_path): data_problems.as_dict(), str(item_path): item_problems.as_dict()},
    )


# -------------------------------------------------------------------------------------- CSV / Parquet


def _read_table(path: Path, problems: ProblemLog) -> pd.DataFrame:
    path = _require_file(path)
    if path.stat().st_size == 0:
        raise LogFormatError(f"{path}: the file is empty")
    suffixes = "".join(path.suffixes).lower()
    if ".parquet" in suffixes or ".pq" in suffixes:
        return pd.read_parquet(path)
    if not (".csv" in suffixes or ".tsv" in suffixes or ".txt" in suffixes):
        raise LogFormatError(f"{path}: unknown table format (expected .csv, .tsv or .parquet)")
    options = {"sep": "\t" if ".tsv" in suffixes else ",", "dtype": str, "keep_default_na": False}
    try:
        try:
            return pd.read_csv(path, encoding="utf-8", **options)
        except UnicodeDecodeError:
            table = pd.read_csv(path, encoding="utf-8", encoding_errors="replace", **options)
    except pd.errors.ParserError as error:
        raise LogFormatError(f"{path}: cannot be parsed as a table: {error}") from error
    # Record which rows had bytes that are not UTF-8 (now U+FFFD) instead of repairing them silently.
    replaced = np.zeros(len(table), dtype=bool)
    for column in table.columns:
        replaced |= (
            table[column].astype("string").str.contains("\ufffd", regex=False).fillna(False).to_numpy()
        )
    problems.add("non_utf8_bytes_replaced", np.flatnonzero(replaced) + 1)
    return table


def _text_timestamps(text: pd.Series) -> pd.Series:
    """Numeric strings as numbers, other strings parsed as date-times (to seconds); the rest marked bad."""
    number = pd.to_numeric(text, errors="coerce").astype("float64")
    needs_date = (number.isna() & text.notna()).to_numpy()
    if needs_date.any():
        dates = pd.to_datetime(text[needs_date], errors="coerce", utc=True, format="mixed")
        number[needs_date] = ((dates - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy()
    marked = number.astype("object")
    # A value that is present but neither a number nor a date stays non-null so it is counted as bad.
    marked[(number.isna() & text.notna()).to_numpy()] = "unparseable"
    return marked.where(marked.notna(), None)


def read_tabular(
    interactions_path: str | Path,
    items_path: str | Path | None = None,
    column_map: dict[str, str] | None = None,
    *,
    max_bad_fraction: float = 0.5,
) -> RawLog:
    """Read the common tables from CSV or Parquet (chosen by the file suffix).

    ``column_map`` renames the files' columns to the common names, ``{"the file's column": "common name"}``,
    e.g. ``{"customer": "user_id", "sku": "item_id", "ts": "timestamp"}``. ``user_id``, ``item_id`` and
    ``timestamp`` are required in the interactions (numbers in seconds or milliseconds, or date-time strings);
    ``rating`` is optional. ``items_path`` may be None, giving items with ids only. Line numbers in the report
    are data-row numbers (1-based, header excluded).
    """
    interactions_path = Path(interactions_path)
    column_map = dict(column_map or {})
    inter_problems = ProblemLog(interactions_path)
    table = _read_table(interactions_path, inter_problems).rename(columns=column_map)
    missing = [c for c in ("user_id", "item_id", "timestamp") if c not in table.columns]
    if missing:
        raise LogFormatError(
            f"{interactions_path}: required column(s) {missing} not found; columns are {list(table.columns)} "
            f"(a column_map can rename them)"
        )
    inter_problems.rows_read = len(table)
    lines = np.arange(1, len(table) + 1)
    user = _blank_to_na(table["user_id"])
    item = _blank_to_na(table["item_id"])
    inter_problems.add("missing_user_id", lines[user.isna().to_numpy()])
    inter_problems.add("missing_item_id", lines[(item.isna() & user.notna()).to_numpy()])
    raw_ts = table["timestamp"]
    if isinstance(raw_ts.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(raw_ts):
        # Parquet date-times: whole seconds since the epoch (naive values are taken as UTC).
        as_utc = raw_ts.dt.tz_localize("UTC") if raw_ts.dt.tz is None else raw_ts
        raw_ts = ((as_utc - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).astype("Float64")
    elif not pd.api.types.is_numeric_dtype(raw_ts):
        raw_ts = _text_timestamps(_blank_to_na(raw_ts))
    timestamp, ts_ok = _timestamps_to_seconds(raw_ts, lines, inter_problems)
    if "rating" in table:
        rating = _to_float(
            _blank_to_na(table["rating"])
            if not pd.api.types.is_numeric_dtype(table["rating"])
            else table["rating"]
        )
        raw_rating = table["rating"]
        given = raw_rating.notna() & (raw_rating.astype("string").str.strip() != "")
        inter_problems.add("unparseable_rating_set_to_null", lines[(rating.isna() & given).to_numpy()])
    else:
        rating = pd.Series(np.nan, index=table.index)
    keep = user.notna().to_numpy() & item.notna().to_numpy() & ts_ok
    interactions = _finish_interactions(
        pd.DataFrame({"user_id": user, "item_id": item, "timestamp": timestamp, "rating": rating})[keep]
    )
    inter_problems.rows_kept = len(interactions)
    inter_problems.check_usable(max_bad_fraction, "interaction rows")
    report = {str(interactions_path): inter_problems.as_dict()}

    if items_path is None:
        items = _finish_items(pd.DataFrame({"item_id": interactions["item_id"].unique()}))
    else:
        items_path = Path(items_path)
        item_problems = ProblemLog(items_path)
        catalogue = _read_table(items_path, item_problems).rename(columns=column_map)
        if "item_id" not in catalogue.columns:
            raise LogFormatError(
                f"{items_path}: required column 'item_id' not found; columns are {list(catalogue.columns)}"
            )
        item_problems.rows_read = len(catalogue)
        item_lines = np.arange(1, len(catalogue) + 1)
        ids = _blank_to_na(catalogue["item_id"])
        item_problems.add("missing_item_id", item_lines[ids.isna().to_numpy()])
        items = _finish_items(catalogue[ids.notna().to_numpy()].copy())
        item_problems.rows_kept = len(items)
        item_problems.check_usable(max_bad_fraction, "item rows")
        report[str(items_path)] = item_problems.as_dict()
    return RawLog(
        interactions=interactions, items=items, source=f"tabular:{interactions_path}", parse_report=report
    )


#: The readers by the ``format`` name used in the catalog.
READERS = {
    "amazon2023": read_amazon2023,
    "lcrec": read_lcrec,
    "movielens": read_movielens,
    "tabular": read_tabular,
}
