"""The filter bar above the grid: search box, filters, sort and the count of results.

It edits a :class:`~.model.GalleryQuery` and says so with ``query_changed`` (the
search is debounced). Model, quality and orientation choices are named by the
labels of :mod:`kling_desktop.api.models`.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

from PySide6.QtCore import QDate, QLocale, QSize, QTimer, Signal, Slot
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kling_desktop.api.models import Mode, Model, Orientation
from kling_desktop.engine.store import UNMARKED, ResultFilter
from kling_desktop.i18n import N_, _, ngettext
from kling_desktop.ui.gallery.labels import plain_label
from kling_desktop.ui.gallery.model import GalleryQuery

# Marked here, translated where shown.
DATE_CHOICES = (
    ("any", N_("Any time")),
    ("today", N_("Today")),
    ("week", N_("Last 7 days")),
    ("month", N_("Last 30 days")),
    ("year", N_("This year")),
    ("custom", N_("Between…")),
)


def date_range(choice: str, start: QDate, end: QDate, *,
               now: float | None = None) -> tuple[float | None, float | None]:
    """(since, until) as UNIX times for a date choice; local days, ``until`` exclusive."""
    moment = datetime.fromtimestamp(now if now is not None else time.time())
    midnight = datetime(moment.year, moment.month, moment.day)
    if choice == "today":
        return midnight.timestamp(), None
    if choice == "week":
        return (midnight - timedelta(days=6)).timestamp(), None
    if choice == "month":
        return (midnight - timedelta(days=29)).timestamp(), None
    if choice == "year":
        return datetime(moment.year, 1, 1).timestamp(), None
    if choice == "custom":
        first = date(start.year(), start.month(), start.day())
        last = date(end.year(), end.month(), end.day())
        if last < first:
            first, last = last, first
        since = datetime(first.year, first.month, first.day).timestamp()
        until = (datetime(last.year, last.month, last.day) + timedelta(days=1)).timestamp()
        return since, until
    return None, None


SEARCH_MIN_WIDTH = 180


class FilterBar(QWidget):
    """Search box, filters and sort. ``query_changed(GalleryQuery)`` (search debounced).

    One row when it fits; when the filters' words need the room (English at 1024 px),
    the search box moves to a row of its own above them instead of squeezing them."""

    query_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("galleryFilterBar")
        outer = QVBoxLayout(self)
        self._outer = outer
        outer.setContentsMargins(8, 6, 8, 6)
        outer.setSpacing(6)
        # The bar's narrowest is its filters alone (minimumSizeHint), not search + filters.
        outer.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self._search_row = QHBoxLayout()
        outer.addLayout(self._search_row)
        row = QHBoxLayout()
        row.setSpacing(6)
        outer.addLayout(row)
        self._row = row
        self.search = QLineEdit(self)
        self.search.setObjectName("gallerySearch")
        self.search.setPlaceholderText(_("Search titles, pictures, clips, prompts…"))
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName(_("Search"))
        self.search.setToolTip(_("Finds results whose title, picture or clip name, prompt or "
                                 "task id holds every word typed"))
        self.search.setMinimumWidth(SEARCH_MIN_WIDTH)
        row.addWidget(self.search, 2)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(180)
        self._debounce.timeout.connect(self.emit_query)
        self.search.textChanged.connect(self._debounce.start)
        self.search.returnPressed.connect(self.emit_query)

        self.model_box = self._combo("modelFilter", _("Model"), [
            (None, _("All models")), *((str(m), m.label) for m in Model)])
        self.mode_box = self._combo("modeFilter", _("Quality"), [
            (None, _("Any quality")), *((str(m), plain_label(m.label)) for m in Mode)])
        self.orientation_box = self._combo("orientationFilter", _("Orientation"), [
            (None, _("Any orientation")), *((str(o), o.label) for o in Orientation)])
        self.date_box = self._combo("dateFilter", _("Date"),
                                    [(value, _(text)) for value, text in DATE_CHOICES])
        self.demo_box = self._combo("demoFilter", _("Demo or real"), [
            (None, _("Real and demo")), (False, _("Real only")), (True, _("Demo only"))])
        self.mark_box = self._combo("markFilter", _("Mark"), [
            (None, _("All marks")), ("keeper", _("Keepers")), ("reject", _("Rejects")),
            (UNMARKED, _("Not marked yet"))])
        self.sort_box = self._combo("sortBox", _("Sort"), [
            ("newest", _("Newest first")), ("oldest", _("Oldest first")),
            ("longest", _("Longest first")), ("shortest", _("Shortest first"))])
        self.since_edit = QDateEdit(self)
        self.until_edit = QDateEdit(self)
        today = QDate.currentDate()
        for edit, name, value in ((self.since_edit, "sinceDate", today.addDays(-30)),
                                  (self.until_edit, "untilDate", today)):
            edit.setObjectName(name)
            edit.setCalendarPopup(True)
            edit.setDisplayFormat(QLocale().dateFormat(QLocale.FormatType.ShortFormat))
            edit.setDate(value)
            edit.setVisible(False)
            edit.dateChanged.connect(self.emit_query)
        for widget in (self.model_box, self.mode_box, self.orientation_box, self.date_box,
                       self.since_edit, self.until_edit, self.demo_box, self.mark_box,
                       self.sort_box):
            row.addWidget(widget)
        self.reset_button = QToolButton(self)
        self.reset_button.setObjectName("resetFilters")
        self.reset_button.setText(_("Clear filters"))
        self.reset_button.setAutoRaise(True)
        self.reset_button.clicked.connect(self.reset)
        self.reset_button.setVisible(False)
        row.addWidget(self.reset_button)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("galleryCount")
        row.addWidget(self.count_label)
        self.date_box.currentIndexChanged.connect(self.on_date_box_currentIndexChanged)

    # -- one row or two ---------------------------------------------------------------------

    def _filters_width(self) -> int:
        """The width the filters' row needs without the search box."""
        items = [self._row.itemAt(i) for i in range(self._row.count())]
        shown = [item.widget() for item in items if item is not None]
        widgets = [w for w in shown if w is not None and w is not self.search
                   and not w.isHidden()]
        margins = self._outer.contentsMargins()
        spacing = self._row.spacing() * max(0, len(widgets) - 1)
        return (sum(w.sizeHint().width() for w in widgets) + spacing + margins.left()
                + margins.right())

    def search_on_own_row(self) -> bool:
        return self._search_row.indexOf(self.search) >= 0

    def _fit(self) -> None:
        wide = self._filters_width() + SEARCH_MIN_WIDTH + self._row.spacing()
        if not self.search_on_own_row() and self.width() < wide:
            self._row.removeWidget(self.search)
            self._search_row.addWidget(self.search)
            self.updateGeometry()
        elif self.search_on_own_row() and self.width() >= wide + 24:   # no flicker at the edge
            self._search_row.removeWidget(self.search)
            self._row.insertWidget(0, self.search, 2)
            self.updateGeometry()

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(self._filters_width(), hint.height())

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(max(hint.width(), self._filters_width()), hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _combo(self, name: str, accessible: str,
               items: list[tuple[object, str]]) -> QComboBox:
        box = QComboBox(self)
        box.setObjectName(name)
        box.setAccessibleName(accessible)
        for value, text in items:
            box.addItem(text, value)
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        box.currentIndexChanged.connect(self.emit_query)
        return box

    @Slot(int)
    def on_date_box_currentIndexChanged(self, _index: int) -> None:
        custom = self.date_box.currentData() == "custom"
        self.since_edit.setVisible(custom)
        self.until_edit.setVisible(custom)
        self._fit()

    def query(self) -> GalleryQuery:
        since, until = date_range(str(self.date_box.currentData()), self.since_edit.date(),
                                  self.until_edit.date())
        demo = self.demo_box.currentData()
        where = ResultFilter(
            model=self.model_box.currentData(),
            mode=self.mode_box.currentData(),
            orientation=self.orientation_box.currentData(),
            mark=self.mark_box.currentData(),
            text=self.search.text().strip() or None,
            since=since,
            until=until,
            demo=demo if isinstance(demo, bool) else None,
        )
        return GalleryQuery(where=where, sort=str(self.sort_box.currentData()))

    @Slot()
    def emit_query(self) -> None:
        self._debounce.stop()
        query = self.query()
        self.reset_button.setVisible(query.filtered)
        self._fit()
        self.query_changed.emit(query)

    @Slot()
    def reset(self) -> None:
        for box in (self.model_box, self.mode_box, self.orientation_box, self.date_box,
                    self.demo_box, self.mark_box):
            box.blockSignals(True)
            box.setCurrentIndex(0)
            box.blockSignals(False)
        self.on_date_box_currentIndexChanged(0)
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.emit_query()

    def set_count(self, shown: int, total: int) -> None:
        locale = QLocale()
        if shown == total:
            self.count_label.setText(ngettext("{n} result", "{n} results", total).format(
                n=locale.toString(total)))
        else:
            self.count_label.setText(_("{shown} of {total}").format(
                shown=locale.toString(shown), total=locale.toString(total)))
        self._fit()
