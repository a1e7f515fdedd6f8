"""The SQLite store of LLM calls: completed answers by request hash, and failures apart.

One connection per thread (SQLite connections must not be shared across threads), WAL journal so readers
never block the writer, and ``INSERT OR IGNORE`` so two workers finishing the same request cannot clash.
Each answer is committed as soon as it arrives, so a run killed halfway keeps everything it paid for and
the next run only makes the missing calls. Failures go to their own table: they are never returned as
answers, so the next run retries them.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS completions (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    request_json TEXT NOT NULL,
    response_text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    latency_s REAL NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    model TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS failures_key ON failures(key);
"""


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
        with self._connection() as connection:
            connection.executescript(_SCHEMA)

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

    def get(self, key: str) -> CachedCompletion | None:
        row = (
            self._connection()
            .execute(
                "SELECT response_text, prompt_tokens, completion_tokens, latency_s FROM completions WHERE key = ?",
                (key,),
            )
            .fetchone()
        )
        return None if row is None else CachedCompletion(row[0], int(row[1]), int(row[2]), float(row[3]))

    def put(self, key: str, model: str, request: dict[str, Any], completion: CachedCompletion) -> None:
        """Store an answer; a second answer for the same key is ignored (the first one wins)."""
        self._connection().execute(
            "INSERT OR IGNORE INTO completions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                model,
                json.dumps(request, sort_keys=True),
                completion.text,
                completion.prompt_tokens,
                completion.completion_tokens,
                completion.latency_s,
                time.time(),
            ),
        )

    def record_failure(self, key: str, model: str, kind: str, message: str) -> None:
        """Log a failed call; it stays retryable because ``get`` never reads this table."""
        self._connection().execute(
            "INSERT INTO failures (key, model, kind, message, created_at) VALUES (?, ?, ?, ?, ?)",
            (key, model, kind, message[:2000], time.time()),
        )

    def count(self) -> int:
        return int(self._connection().execute("SELECT COUNT(*) FROM completions").fetchone()[0])

    def failure_count(self) -> int:
        return int(self._connection().execute("SELECT COUNT(*) FROM failures").fetchone()[0])

    def integrity_ok(self) -> bool:
        return self._connection().execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    def close(self) -> None:
        """Close every thread's connection (call from the owning thread once workers are done)."""
        with self._connections_lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()
