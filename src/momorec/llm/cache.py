"""The SQLite store of LLM calls: completed answers by request hash, and failures apart.

One connection per thread (SQLite connections must not be shared across threads), WAL journal so readers
never block the writer, and ``INSERT OR IGNORE`` so two workers finishing the same request cannot clash.
Each answer is committed as soon as it arrives, so a run killed halfway keeps everything it paid for and
the next run only makes the missing calls. Failures go to their own table: they are never returned as
answers, so the next run retries them; their messages are redacted (``momorec.llm.redaction``).

Schema versions (SQLite ``user_version``):

- 1 (files written before endpoints were part of the key; ``user_version`` 0): keys hash the request and
  the model name only, so another endpoint serving the same model name got the old endpoint's answers.
- 2: keys hash the request and the endpoint identity (``EndpointConfig.cache_identity``), kept in the new
  ``endpoint`` column. Opening a version-1 file migrates it once: answers of the embedded model (model
  name ``EMBEDDED_MODEL_ALIAS``, the only model the project ran without a base URL) are re-keyed to the
  embedded identity, so a re-run still makes no call; every other answer cannot be attributed to an
  endpoint and is moved to ``completions_unattributed``, kept for inspection and never served.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from momorec.llm.embedded import EMBEDDED_MODEL_ALIAS, SMOLLM2_FILE
from momorec.llm.errors import LLMConfigError
from momorec.llm.redaction import redact

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2
# The embedded endpoint's identity (``client.embedded_identity`` of the default model file).
LEGACY_EMBEDDED_IDENTITY = f"embedded:{SMOLLM2_FILE}"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS completions (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    request_json TEXT NOT NULL,
    response_text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    latency_s REAL NOT NULL,
    created_at REAL NOT NULL,
    endpoint TEXT
);
CREATE TABLE IF NOT EXISTS failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    model TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at REAL NOT NULL,
    endpoint TEXT
);
CREATE INDEX IF NOT EXISTS failures_key ON failures(key);
CREATE TABLE IF NOT EXISTS completion_logprobs (
    key TEXT PRIMARY KEY,
    top_logprobs_json TEXT NOT NULL
);
"""


def request_key(record: dict[str, Any], endpoint: str | None) -> str:
    """The cache key of a request record (``ChatRequest.as_record``) at ``endpoint`` (``None``: schema 1)."""
    keyed = record if endpoint is None else {**record, "endpoint": endpoint}
    payload = json.dumps(keyed, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CachedCompletion:
    """One stored answer."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float


class LLMCache:
    """Thread-safe SQLite cache of chat completions, keyed by a request hash (see ``ChatRequest.cache_key``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        # Every statement and ``close`` hold this lock: closing a connection while another thread runs a
        # statement on it crashes the interpreter (a client may abandon in-flight requests on a fatal error).
        self._use_lock = threading.RLock()
        connection = self._connection()
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise LLMConfigError(
                f"{self.path} has LLM-cache schema version {version}, newer than this code's "
                f"{SCHEMA_VERSION}: update momorec or point llm_cache at another file."
            )
        has_completions = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'completions'"
        ).fetchone()
        if has_completions and version < SCHEMA_VERSION:
            self._migrate_from_version_1(connection)
        else:
            connection.executescript(_SCHEMA)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def __repr__(self) -> str:
        return f"LLMCache(path={str(self.path)!r})"

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=30000")
            self._local.connection = connection
            with self._connections_lock:
                self._connections.append(connection)
        return connection

    def _migrate_from_version_1(self, connection: sqlite3.Connection) -> None:
        """Add the endpoint columns; re-key the embedded model's answers, set the others apart (module doc)."""
        connection.execute("BEGIN IMMEDIATE")
        try:
            for table in ("completions", "failures"):
                columns = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
                if "endpoint" not in columns:
                    connection.execute(f"ALTER TABLE {table} ADD COLUMN endpoint TEXT")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS completions_unattributed AS SELECT * FROM completions WHERE 0"
            )
            rows = connection.execute(
                "SELECT key, request_json FROM completions WHERE model = ? AND endpoint IS NULL",
                (EMBEDDED_MODEL_ALIAS,),
            ).fetchall()
            rekeyed = [
                (request_key(json.loads(request), LEGACY_EMBEDDED_IDENTITY), LEGACY_EMBEDDED_IDENTITY, key)
                for key, request in rows
            ]
            connection.executemany("UPDATE completions SET key = ?, endpoint = ? WHERE key = ?", rekeyed)
            moved = connection.execute(
                "INSERT INTO completions_unattributed SELECT * FROM completions WHERE endpoint IS NULL"
            ).rowcount
            connection.execute("DELETE FROM completions WHERE endpoint IS NULL")
            connection.execute("CREATE INDEX IF NOT EXISTS failures_key ON failures(key)")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        logger.warning(
            "Migrated the LLM cache %s to schema version %d (answers keyed by endpoint): %d answers of the "
            "embedded model kept; %d answers of other models set apart in completions_unattributed (their "
            "endpoint is unknown, so they are never served again)",
            self.path, SCHEMA_VERSION, len(rekeyed), moved,
        )  # fmt: skip

    def _execute(self, sql: str, parameters: tuple = (), fetch_one: bool = False) -> tuple | None:
        with self._use_lock:
            cursor = self._connection().execute(sql, parameters)
            return cursor.fetchone() if fetch_one else None

    def get(self, key: str) -> CachedCompletion | None:
        row = self._execute(
            "SELECT response_text, prompt_tokens, completion_tokens, latency_s FROM completions WHERE key = ?",
            (key,),
            fetch_one=True,
        )
        return None if row is None else CachedCompletion(row[0], int(row[1]), int(row[2]), float(row[3]))

    def put(
        self,
        key: str,
        model: str,
        request: dict[str, Any],
        completion: CachedCompletion,
        endpoint: str | None = None,
    ) -> None:
        """Store an answer; a second answer for the same key is ignored (the first one wins)."""
        self._execute(
            "INSERT OR IGNORE INTO completions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                model,
                json.dumps(request, sort_keys=True),
                completion.text,
                completion.prompt_tokens,
                completion.completion_tokens,
                completion.latency_s,
                time.time(),
                endpoint,
            ),
        )

    def put_logprobs(self, key: str, top_logprobs_json: str) -> None:
        """Store the token log-probabilities of the answer stored under ``key`` (first one wins)."""
        self._execute("INSERT OR IGNORE INTO completion_logprobs VALUES (?, ?)", (key, top_logprobs_json))

    def get_logprobs(self, key: str) -> str | None:
        row = self._execute(
            "SELECT top_logprobs_json FROM completion_logprobs WHERE key = ?", (key,), fetch_one=True
        )
        return None if row is None else str(row[0])

    def record_failure(
        self, key: str, model: str, kind: str, message: str, endpoint: str | None = None
    ) -> None:
        """Log a failed call (message redacted); it stays retryable because ``get`` never reads this table."""
        self._execute(
            "INSERT INTO failures (key, model, kind, message, created_at, endpoint) VALUES (?, ?, ?, ?, ?, ?)",
            (key, model, kind, redact(message)[:2000], time.time(), endpoint),
        )

    def count(self) -> int:
        return int(self._execute("SELECT COUNT(*) FROM completions", fetch_one=True)[0])

    def failure_count(self) -> int:
        return int(self._execute("SELECT COUNT(*) FROM failures", fetch_one=True)[0])

    def integrity_ok(self) -> bool:
        return self._execute("PRAGMA integrity_check", fetch_one=True)[0] == "ok"

    def close(self) -> None:
        """Close every thread's connection (call from the owning thread once workers are done)."""
        with self._use_lock, self._connections_lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
            self._local = threading.local()
