"""The library index: one ``results`` row per result video, and the gallery's queries.

The library folder is the truth; this table only mirrors it so the gallery can
filter, sort and page 10,000 results without reading a sidecar. It can be
rebuilt from the folder at any time (:meth:`Library.rebuild_index`).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import PurePosixPath
from typing import Any, Final

from kling_desktop.engine.store.connection import Connection
from kling_desktop.sources import title_for

__all__ = ["MARKS", "UNMARKED", "ResultFilter", "ResultIndex", "ResultRecord", "result_keys_query",
           "search_words"]

@dataclass(frozen=True)
class ResultRecord:
    """One row of the library index: a result video (paths relative to the library root)."""

    video_rel: str
    sidecar_rel: str | None = None
    task_id: str | None = None
    job_id: int | None = None
    model: str | None = None
    mode: str | None = None
    orientation: str | None = None
    prompt: str = ""
    keep_original_sound: bool | None = None
    created_at: float | None = None
    completed_at: float | None = None
    saved_at: float | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    file_size: int = 0
    demo: bool = False
    mark: str | None = None  # "keeper" | "reject" | None
    sidecar_ok: bool = False
    sidecar_json: str | None = None

    @cached_property
    def input_names(self) -> tuple[str, str]:
        """``(picture name, clip name)`` as its sidecar records them (``""`` when unknown)."""
        names = ["", ""]
        if self.sidecar_ok and self.sidecar_json:
            try:
                inputs = json.loads(self.sidecar_json).get("inputs")
            except (ValueError, AttributeError, RecursionError):
                inputs = None
            if isinstance(inputs, dict):
                for number, kind in enumerate(("image", "video")):
                    ref = inputs.get(kind)
                    name = ref.get("name") if isinstance(ref, dict) else None
                    if isinstance(name, str):
                        names[number] = name
        return names[0], names[1]

    @cached_property
    def title(self) -> str:
        """The result's human title (see ``sources.title_for``); a video without a usable
        description is called by its file name."""
        image, video = self.input_names
        if image or video or self.prompt.strip():
            return title_for(image, video, self.prompt)
        return PurePosixPath(self.video_rel).stem


_RESULT_COLUMNS: Final = tuple(f.name for f in dataclasses.fields(ResultRecord))
_RESULT_ORDER: Final = {
    "saved_at": "saved_at",
    "completed_at": "completed_at",
    "created_at": "created_at",
    "model": "model",
    "mode": "mode",
    "file_size": "file_size",
    "date": "saved_at",       # the gallery's "date": when the result reached the library
    "duration": "duration",
}
# Orders whose column may be NULL (unreadable sidecars): those rows go last either way.
_NULLS_LAST: Final = frozenset({"duration"})
MARKS: Final = ("keeper", "reject")
# What the search box looks in: the prompt, the task id and the inputs' names (a title is
# made of those), the names read from the sidecar text only when it is valid JSON.
_SEARCHED: Final = (
    "prompt",
    "task_id",
    "CASE WHEN json_valid(sidecar_json) THEN json_extract(sidecar_json, '$.inputs.image.name') END",
    "CASE WHEN json_valid(sidecar_json) THEN json_extract(sidecar_json, '$.inputs.video.name') END",
)
UNMARKED: Final = "unmarked"   # ResultFilter(mark=UNMARKED): rows with no mark


@dataclass(frozen=True)
class ResultFilter:
    """What the gallery asks of the results index (every field optional, all combined).

    ``text``: words that must each appear (case-insensitive) in the prompt, an input's
    name (so in the title) or the task id; ``mark``: "keeper",
    "reject" or :data:`UNMARKED`; ``since``/``until``: UNIX times bounding
    ``saved_at`` (``since`` inclusive, ``until`` exclusive); ``demo``: True for
    demo results only, False for real ones only.
    """

    model: str | None = None
    mode: str | None = None
    mark: str | None = None
    text: str | None = None
    orientation: str | None = None
    since: float | None = None
    until: float | None = None
    demo: bool | None = None

    def where(self) -> tuple[str, list[object]]:
        """The SQL condition (``""`` when nothing is filtered) and its parameters."""
        clauses: list[str] = []
        params: list[object] = []
        for name in ("model", "mode", "orientation"):
            value = getattr(self, name)
            if value is not None:
                clauses.append(f"{name} = ?")
                params.append(str(value))
        if self.mark == UNMARKED:
            clauses.append("mark IS NULL")
        elif self.mark is not None:
            clauses.append("mark = ?")
            params.append(str(self.mark))
        for word in search_words(self.text or ""):
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            clauses.append("(" + " OR ".join(f"{column} LIKE ? ESCAPE '\\'"
                                             for column in _SEARCHED) + ")")
            params.extend([f"%{escaped}%"] * len(_SEARCHED))
        if self.since is not None:
            clauses.append("saved_at >= ?")
            params.append(float(self.since))
        if self.until is not None:
            clauses.append("saved_at < ?")
            params.append(float(self.until))
        if self.demo is not None:
            clauses.append("demo = ?")
            params.append(1 if self.demo else 0)
        return " AND ".join(clauses), params


def search_words(text: str) -> list[str]:
    """The words a search looks for: a title's joiners (``—``, ``+``) and the ``…`` of a
    shortened prompt are not words, so a title typed as shown finds its result."""
    words = (word.strip("…") for word in text.split())
    return [word for word in words if any(char.isalnum() for char in word)]


def _order_clause(order_by: str, newest_first: bool) -> str:
    column = _RESULT_ORDER.get(order_by)
    if column is None:
        raise ValueError(f"cannot order results by {order_by!r}")
    direction = "DESC" if newest_first else "ASC"
    nulls = f"({column} IS NULL), " if order_by in _NULLS_LAST else ""
    return f" ORDER BY {nulls}{column} {direction}, id {direction}"


def result_keys_query(where: ResultFilter | None = None, *, order_by: str = "saved_at",
                      newest_first: bool = True) -> tuple[str, list[object]]:
    """The SQL (and its parameters) that lists the matching ``video_rel`` in order.

    The gallery runs it on the main thread whenever its list changes (its first
    screen, a filter, a sort), so by date and by length it is answered from an index
    alone (schema 7): the rows themselves are wide.
    """
    condition, params = (where or ResultFilter()).where()
    sql = "SELECT video_rel FROM results"
    if condition:
        sql += " WHERE " + condition
    return sql + _order_clause(order_by, newest_first), params


def _result_params(record: ResultRecord) -> list[object]:
    params: list[object] = []
    for name in _RESULT_COLUMNS:
        value = getattr(record, name)
        if isinstance(value, bool):
            value = int(value)
        params.append(value)
    return params


def _result_from_row(row: sqlite3.Row) -> ResultRecord:
    values: dict[str, Any] = {name: row[name] for name in _RESULT_COLUMNS}
    values["demo"] = bool(values["demo"])
    values["sidecar_ok"] = bool(values["sidecar_ok"])
    if values["keep_original_sound"] is not None:
        values["keep_original_sound"] = bool(values["keep_original_sound"])
    return ResultRecord(**values)


class ResultIndex(Connection):
    """The ``results`` table of the job store."""

    _UPSERT: Final = (
        f"INSERT INTO results ({', '.join(_RESULT_COLUMNS)}) "  # noqa: S608 - known names
        f"VALUES ({', '.join('?' for _ in _RESULT_COLUMNS)}) "
        "ON CONFLICT(video_rel) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in _RESULT_COLUMNS if c != "video_rel")
    )

    def upsert_result(self, record: ResultRecord) -> None:
        with self._write() as db:
            db.execute(self._UPSERT, _result_params(record))

    def replace_results(self, records: Sequence[ResultRecord]) -> None:
        """Swap the whole index for ``records`` in one transaction."""
        with self._write() as db:
            db.execute("DELETE FROM results")
            db.executemany(self._UPSERT, [_result_params(r) for r in records])

    def remove_result(self, video_rel: str) -> bool:
        with self._write() as db:
            return db.execute("DELETE FROM results WHERE video_rel = ?",
                              (video_rel,)).rowcount > 0

    def set_result_mark(self, video_rel: str, mark: str | None) -> bool:
        if mark not in (None, *MARKS):
            raise ValueError(f"mark must be one of {MARKS} or None")
        with self._write() as db:
            return db.execute("UPDATE results SET mark = ? WHERE video_rel = ?",
                              (mark, video_rel)).rowcount > 0

    def get_result(self, video_rel: str) -> ResultRecord | None:
        with self._read() as db:
            row = db.execute("SELECT * FROM results WHERE video_rel = ?",
                             (video_rel,)).fetchone()
        return None if row is None else _result_from_row(row)

    def list_results(self) -> list[ResultRecord]:
        """Every index row, newest first (by when it reached the library)."""
        sql = "SELECT * FROM results"
        sql += _order_clause("saved_at", newest_first=True)
        with self._read() as db:
            rows = db.execute(sql).fetchall()
        return [_result_from_row(row) for row in rows]

    def result_keys(self, where: ResultFilter | None = None, *, order_by: str = "saved_at",
                    newest_first: bool = True) -> list[str]:
        """Only the ``video_rel`` of the matching rows, in order (see :func:`result_keys_query`)."""
        sql, params = result_keys_query(where, order_by=order_by, newest_first=newest_first)
        with self._read() as db:
            return [row[0] for row in db.execute(sql, params).fetchall()]

    def get_results(self, video_rels: Sequence[str]) -> dict[str, ResultRecord]:
        """The rows for ``video_rels`` (missing ones are simply absent), by ``video_rel``."""
        found: dict[str, ResultRecord] = {}
        keys = list(dict.fromkeys(video_rels))
        with self._read() as db:
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                marks = ", ".join("?" for _ in chunk)
                rows = db.execute(
                    f"SELECT * FROM results WHERE video_rel IN ({marks})",  # noqa: S608
                    chunk).fetchall()
                for row in rows:
                    record = _result_from_row(row)
                    found[record.video_rel] = record
        return found

    def count_results(self) -> int:
        """How many results the index lists (the gallery's "n results", unfiltered)."""
        with self._read() as db:
            return int(db.execute("SELECT COUNT(*) FROM results").fetchone()[0])
