"""The response cache: a persistent map (what decides the answer) → prediction, in SQLite.

A key is the sha256 of a predictor's *cache identity* (model fingerprint, tokenizer digest,
chat template text, dtype, scoring settings: everything that changes the logits) and the
exact *scored text* of an item (the formatted prompt the model reads). Two models, two
tokenizers or two chat templates therefore never share answers.

>>> ResponseCache.key({"fingerprint": "a"}, "Q?") == ResponseCache.key({"fingerprint": "b"}, "Q?")
False
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ladder.core.errors import RunError
from ladder.harness.predictors import Prediction

__all__ = ["ResponseCache"]


class ResponseCache:
    """Predictions stored in SQLite at ``path``, looked up by :meth:`key`.

    Raises :class:`RunError` (one line) when ``path`` is not a usable SQLite database or its
    folder cannot be written; the check runs here, before any run directory exists.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            self._db.commit()
        except (sqlite3.DatabaseError, OSError) as exc:
            raise RunError(
                f"response cache {self.path}: unusable ({exc}); delete or move it, "
                "or run with --no-cache"
            ) from None

    @staticmethod
    def key(identity: dict[str, Any], scored: str) -> str:
        """The cache key of the text ``scored`` under a predictor's cache ``identity``.

        >>> len(ResponseCache.key({"fingerprint": "f", "settings": {}}, "Is X a cause? "))
        64
        """
        blob = json.dumps([identity, scored], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()

    def get_many(self, keys: Sequence[str]) -> dict[str, Prediction]:
        """The stored predictions among ``keys`` (absent keys are left out)."""
        out: dict[str, Prediction] = {}
        for start in range(0, len(keys), 500):
            part = list(keys[start : start + 500])
            marks = ",".join("?" * len(part))
            for key, value in self._db.execute(
                f"SELECT key, value FROM responses WHERE key IN ({marks})", part
            ):
                data = json.loads(value)
                out[key] = Prediction(data["p_yes"], data["prediction"], data.get("extra", {}))
        return out

    def put_many(self, entries: dict[str, Prediction]) -> None:
        """Store (or replace) predictions by key, in one transaction."""
        self._db.executemany(
            "INSERT OR REPLACE INTO responses (key, value) VALUES (?, ?)",
            [
                (k, json.dumps({"p_yes": p.p_yes, "prediction": p.prediction, "extra": p.extra}))
                for k, p in entries.items()
            ],
        )
        self._db.commit()

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()
