"""The gallery's list model: the library index, filtered and sorted, read page by page.

:class:`GalleryModel` keeps only the ordered list of matching keys (each
result's ``video_rel``, a few hundred KB for 10,000 results) and loads the rows
themselves from SQLite in pages of :data:`PAGE` when a row is first painted,
keeping the most recent pages. No widget exists per item.

:class:`GalleryQuery` is what the filter bar edits; it turns into the store's
:class:`ResultFilter`.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from kling_desktop.engine.library import Library, LibraryEntry
from kling_desktop.engine.store import JobStore, ResultFilter, ResultRecord, StoreError
from kling_desktop.ui.gallery.labels import accessible_text, title_of, tooltip
from kling_desktop.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

PAGE = 120          # rows read from SQLite at once
PAGES_KEPT = 40     # pages kept in memory (4,800 rows)

KEY_ROLE = Qt.ItemDataRole.UserRole + 1       # str: video_rel
RECORD_ROLE = Qt.ItemDataRole.UserRole + 2    # ResultRecord
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 3     # LibraryEntry | None (None: unreadable sidecar)

SORTS: dict[str, tuple[str, bool]] = {
    # id: (store order_by, descending)
    "newest": ("date", True),
    "oldest": ("date", False),
    "longest": ("duration", True),
    "shortest": ("duration", False),
}


@dataclass(frozen=True)
class GalleryQuery:
    """The filter bar's state. ``sort`` is a key of :data:`SORTS`."""

    where: ResultFilter = field(default_factory=ResultFilter)
    sort: str = "newest"

    @property
    def filtered(self) -> bool:
        return self.where != ResultFilter()


class GalleryModel(QAbstractListModel):
    """Matching results, in the query's order. ``failed(error)`` when the index cannot be read."""

    failed = Signal(object)       # StoreError
    reloaded = Signal()

    def __init__(self, library: Library, store: JobStore, parent: QObject | None = None, *,
                 tasks: TaskRunner | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._prefetching: set[int] = set()
        self._last_page = -1
        self._generation = 0
        self.library = library
        self.store = store
        self._query = GalleryQuery()
        self._keys: list[str] = []
        self._rows: dict[str, int] | None = None
        self._pages: OrderedDict[int, dict[str, ResultRecord]] = OrderedDict()
        self._entries: OrderedDict[str, LibraryEntry | None] = OrderedDict()
        self._total = 0
        self._released = False
        self.pages_loaded = 0      # for tests and the benchmark

    # -- query ------------------------------------------------------------------------------

    @property
    def query(self) -> GalleryQuery:
        return self._query

    def set_query(self, query: GalleryQuery) -> None:
        if query != self._query:
            self._query = query
            self.reload()

    @property
    def total(self) -> int:
        """How many results the whole index holds (unfiltered)."""
        return self._total

    def release(self) -> None:
        """Stop reading the index for good: the list empties, the store may close.

        The widget's shutdown calls this, so a paint after the store closed (the
        window closing, a test's store leaving its ``with``) reads nothing.
        """
        self._released = True
        self._reset([])

    def _fetch_keys(self) -> list[str] | None:
        if self._released:
            return []
        order_by, descending = SORTS.get(self._query.sort, SORTS["newest"])
        try:
            keys = self.store.result_keys(self._query.where, order_by=order_by,
                                          newest_first=descending)
            self._total = (self.store.count_results() if self._query.filtered
                           else len(keys))
        except StoreError as exc:
            log.warning("gallery: the index could not be read: %s", exc.message)
            self.failed.emit(exc)
            return None
        return keys

    def reload(self) -> None:
        """Query again from scratch (the view loses its selection: the widget restores it)."""
        self._reset(self._fetch_keys() or [])

    def _reset(self, keys: list[str]) -> None:
        """A new list of items: the view is reset, every cached row dropped."""
        self.beginResetModel()
        self._keys = keys
        self._rows = None
        self._drop_rows()
        self.endResetModel()
        self.reloaded.emit()

    def _drop_rows(self) -> None:
        self._pages.clear()
        self._generation += 1
        self._entries.clear()

    def refresh(self) -> bool:
        """Re-read after the index changed. True when the list of items changed (a reset)."""
        keys = self._fetch_keys()
        if keys is None:
            return False
        if keys != self._keys:
            self._reset(keys)
            return True
        self._drop_rows()
        if self._keys:
            self.dataChanged.emit(self.index(0), self.index(len(self._keys) - 1))
        return False

    def forget(self, keys: Sequence[str]) -> None:
        """Drop cached rows of ``keys`` (their index rows changed) and repaint them."""
        for key in keys:
            self._entries.pop(key, None)
            row = self.row_of(key)
            if row is None:
                continue
            page = self._pages.get(row // PAGE)
            if page is not None:
                page.pop(key, None)
            self._generation += 1
            index = self.index(row)
            self.dataChanged.emit(index, index)

    # -- lookup -----------------------------------------------------------------------------

    def keys(self) -> list[str]:
        return list(self._keys)

    def key_at(self, row: int) -> str | None:
        return self._keys[row] if 0 <= row < len(self._keys) else None

    def row_of(self, key: str) -> int | None:
        if self._rows is None:
            self._rows = {k: i for i, k in enumerate(self._keys)}
        return self._rows.get(key)

    def record_at(self, row: int) -> ResultRecord | None:
        key = self.key_at(row)
        if key is None:
            return None
        page_no = row // PAGE
        page = self._pages.get(page_no)
        if page is None or key not in page:
            page = self._load_page(page_no)
            self._prefetch(page_no + 1)
            self._prefetch(page_no - 1)
        elif page_no != self._last_page:
            self._pages.move_to_end(page_no)
            self._prefetch(page_no + 1)
            self._prefetch(page_no - 1)
        self._last_page = page_no
        return page.get(key)

    def _prefetch(self, page_no: int) -> None:
        """Read a neighbouring page on the pool, so scrolling finds it ready."""
        if (self._tasks is None or page_no < 0 or page_no * PAGE >= len(self._keys)
                or page_no in self._pages or page_no in self._prefetching):
            return
        self._prefetching.add(page_no)
        keys = self._keys[page_no * PAGE:(page_no + 1) * PAGE]
        generation = self._generation
        self._tasks.run(self.store.get_results, keys,
                        on_done=partial(self._on_prefetched, generation, page_no),
                        on_failed=partial(self._on_prefetch_failed, page_no))

    def _on_prefetched(self, generation: int, page_no: int, page: object) -> None:
        self._prefetching.discard(page_no)
        if generation != self._generation or not isinstance(page, dict):
            return
        if page_no not in self._pages:
            self._pages[page_no] = page
            while len(self._pages) > PAGES_KEPT:
                self._pages.popitem(last=False)

    def _on_prefetch_failed(self, page_no: int, _error: BaseException) -> None:
        self._prefetching.discard(page_no)

    def entry_at(self, row: int) -> LibraryEntry | None:
        key = self.key_at(row)
        if key is None:
            return None
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]
        record = self.record_at(row)
        entry = self.library.entry_from_record(record) if record is not None else None
        self._entries[key] = entry
        while len(self._entries) > PAGE * 4:
            self._entries.popitem(last=False)
        return entry

    def _load_page(self, page_no: int) -> dict[str, ResultRecord]:
        keys = self._keys[page_no * PAGE:(page_no + 1) * PAGE]
        try:
            page = self.store.get_results(keys)
        except StoreError as exc:
            log.warning("gallery: rows could not be read: %s", exc.message)
            self.failed.emit(exc)
            page = {}
        self.pages_loaded += 1
        self._pages[page_no] = page
        self._pages.move_to_end(page_no)
        while len(self._pages) > PAGES_KEPT:
            self._pages.popitem(last=False)
        return page

    # -- Qt model ---------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._keys)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = index.row()
        if role == KEY_ROLE:
            return self.key_at(row)
        if role == ENTRY_ROLE:
            return self.entry_at(row)
        record = self.record_at(row)
        if record is None:
            return None
        if role == RECORD_ROLE:
            return record
        if role == Qt.ItemDataRole.DisplayRole:
            return title_of(record)
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(record)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return accessible_text(record)
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

