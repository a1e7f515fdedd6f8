"""Readers that turn each supported source format into a :class:`~momorec.data.raw_log.RawLog`.

Four formats (docs/configuration.md, "Input formats"), one module each:

- Amazon Reviews 2023 JSON lines, plain or gzipped (:func:`read_amazon2023`), streamed in chunks;
- LC-Rec / LETTER JSON (:func:`read_lcrec`), which has an order but no timestamps;
- MovieLens 100K original files (:func:`read_movielens`);
- generic CSV / Parquet with the common column names (:func:`read_tabular`).

Every reader returns the two common tables with the dtypes of ``INTERACTION_COLUMNS`` / ``ITEM_COLUMNS``
and a ``parse_report``: per file, the rows read and kept and, per problem, a count and the first few line
numbers. Rows a reader cannot use are counted there, never dropped silently; a file that is empty, has no
usable row, or is mostly unusable raises :class:`LogFormatError` naming the file and the problem.
A new format is a new module here with a ``read_<format>`` function returning a ``RawLog``, added to
``READERS``.
"""

from momorec.data.problems import LogFormatError, ProblemLog
from momorec.data.readers.amazon2023 import read_amazon2023
from momorec.data.readers.lcrec import read_lcrec
from momorec.data.readers.movielens import read_movielens
from momorec.data.readers.tabular import read_tabular

#: The readers by the ``format`` name used in the catalog.
READERS = {
    "amazon2023": read_amazon2023,
    "lcrec": read_lcrec,
    "movielens": read_movielens,
    "tabular": read_tabular,
}

__all__ = [
    "READERS",
    "LogFormatError",
    "ProblemLog",
    "read_amazon2023",
    "read_lcrec",
    "read_movielens",
    "read_tabular",
]
