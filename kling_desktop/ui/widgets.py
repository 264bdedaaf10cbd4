"""Small widgets and formatting shared by the form, the slots and the dialogs."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import QEvent, QLocale, QPointF, QRectF, QSize, Qt, QUrl, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QIcon,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kling_desktop.api.models import Orientation
from kling_desktop.engine.settings import DEFAULT_CURRENCY
from kling_desktop.i18n import N_, _, ngettext
from kling_desktop.ui.desktop import DesktopOpener

#: The jobs panel's width floor and margins: the panel's and the frame the window paints
#: in its place before the panel is built (ui/main_window/jobs_frame.py).
JOBS_PANEL_MIN_WIDTH = 380
JOBS_PANEL_MARGINS = (12, 16, 16, 12)


# -- colours that stay readable in light and dark palettes -----------------------------------

def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def error_color(palette: QPalette) -> QColor:
    return QColor("#ff8a80") if is_dark(palette) else QColor("#b3261e")


def warning_color(palette: QPalette) -> QColor:
    return QColor("#ffcc80") if is_dark(palette) else QColor("#8a5300")


def ok_color(palette: QPalette) -> QColor:
    return QColor("#a5d6a7") if is_dark(palette) else QColor("#1b6e20")


def muted_color(palette: QPalette) -> QColor:
    return palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.PlaceholderText)


# -- plain-words formatting ------------------------------------------------------------------------

def format_seconds(seconds: float) -> str:
    """Seconds with one decimal, in the user's language ("12.0 s", "12.0 秒")."""
    return _("{seconds} s").format(seconds=QLocale().toString(float(seconds), "f", 1))


CURRENCY_SYMBOLS: dict[str, str] = {"USD": "$", "CNY": "¥", "EUR": "€"}
# Translated where shown: _(CURRENCY_LABELS[code]).
CURRENCY_LABELS: dict[str, str] = {
    "USD": N_("US dollars ($)"), "CNY": N_("Chinese yuan (¥)"), "EUR": N_("Euros (€)"),
    "credits": N_("Credits (the provider's own unit)"),
}


def format_cost(amount: float, currency: str = DEFAULT_CURRENCY) -> str:
    """An amount in the currency the user's rates are in (Settings), written the way this
    computer's locale writes money: "$0.40", "0,40 €", "12.50 credits"."""
    precision = 2 if amount >= 0.01 or amount == 0 else 4
    locale = QLocale()
    if locale.language() == QLocale.Language.C:   # "C"/POSIX: no money format; use en-US
        locale = QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)
    symbol = CURRENCY_SYMBOLS.get(currency)
    if symbol is None:
        unit = _("credits") if currency == "credits" else currency
        return f"{locale.toString(float(amount), 'f', precision)} {unit}".strip()
    return locale.toCurrencyString(float(amount), symbol, precision)


def format_bytes(size: int) -> str:
    """A file size in the user's language and number format ("12.3 MB")."""
    value = float(size)
    locale = QLocale()
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            if unit == "bytes":
                return ngettext("{n} byte", "{n} bytes", int(value)).format(
                    n=locale.toString(int(value)))
            return f"{locale.toString(value, 'f', 1)} {unit}"
        value /= 1024
    return f"{locale.toString(value, 'f', 1)} GB"  # pragma: no cover - loop always returns


def orientation_label(orientation: Orientation) -> str:
    """The orientation's choice with its limit ("Match the picture — clip up to 10 s")."""
    return _("{orientation} — clip up to {seconds} s").format(
        orientation=orientation.label, seconds=f"{orientation.max_video_seconds:g}")


def action_orientation(action: str) -> Orientation | None:
    """The orientation a Problem's fix such as ``orientation=video`` asks for, if it is one."""
    name, _, value = action.partition("=")
    if name != "orientation":
        return None
    try:
        return Orientation(value)
    except ValueError:
        return None


def action_label(action: str) -> str | None:
    """The button text for a Problem's one-click fix; None when the UI cannot apply it."""
    orientation = action_orientation(action)
    if orientation is None:
        return None
    return _("Switch to “{orientation}”").format(orientation=orientation.label)


# -- icons ---------------------------------------------------------------------------------------

def eye_icon(color: QColor, *, crossed: bool, size: int = 32) -> QIcon:
    """An eye (crossed out: hidden), drawn here so it looks the same on every platform."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(color, size / 14)
    painter.setPen(pen)
    s = float(size)
    outline = QPainterPath(QPointF(s * 0.08, s * 0.5))
    outline.quadTo(QPointF(s * 0.5, s * 0.08), QPointF(s * 0.92, s * 0.5))
    outline.quadTo(QPointF(s * 0.5, s * 0.92), QPointF(s * 0.08, s * 0.5))
    painter.drawPath(outline)
    painter.setBrush(color)
    painter.drawEllipse(QRectF(s * 0.38, s * 0.38, s * 0.24, s * 0.24))
    if crossed:
        painter.drawLine(QPointF(s * 0.15, s * 0.85), QPointF(s * 0.85, s * 0.15))
    painter.end()
    return QIcon(pixmap)


def set_text_color(widget: QWidget, color: QColor) -> None:
    palette = widget.palette()
    palette.setColor(QPalette.ColorRole.WindowText, color)
    widget.setPalette(palette)


def clear_layout(layout: QLayout) -> None:
    """Take every item out of ``layout``; its widgets are hidden now and deleted later."""
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget() if item is not None else None
        if widget is not None:
            widget.hide()
            widget.deleteLater()


def mute(widget: QWidget) -> None:
    """Draw ``widget``'s text in the muted colour of its palette (hints and details)."""
    set_text_color(widget, muted_color(widget.palette()))


# -- links to the provider's pages -------------------------------------------------------------

def web_page(url: str) -> QUrl | None:
    """``url`` as an https page to open, or None for anything else (plain http, file:,
    javascript:, a bare word): only https pages are ever opened."""
    link = QUrl(url.strip())
    if not link.isValid() or link.scheme().lower() != "https" or not link.host():
        return None
    return link


class WebLink(QLabel):
    """A line of words with one link in it; only https links are ever opened.

    ``set_link("Get a key at ", url, "api.foxapi.cc", "")``; without a url the
    ``fallback`` words are shown instead. ``opened(url)`` after a link was handed to
    the browser (the desktop opener says so in a box when there is none).
    """

    opened = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._url: str | None = None
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.setOpenExternalLinks(False)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse
                                     | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.linkActivated.connect(self.on_linkActivated)
        self._opener = DesktopOpener(self)
        self._opener.failed.connect(self.on_opener_failed)

    def url(self) -> str | None:
        return self._url

    def set_link(self, before: str, url: str | None, link_text: str, after: str = "", *,
                 fallback: str = "") -> None:
        self._url = url if url and QUrl(url).scheme().lower() == "https" else None
        if self._url is None:
            self.setText(html.escape(fallback))
            self.setToolTip("")
            self.setAccessibleName(fallback)
            return
        self.setText(f"{html.escape(before)}<a href=\"{html.escape(self._url, quote=True)}\">"
                     f"{html.escape(link_text)}</a>{html.escape(after)}")
        self.setToolTip(self._url)
        self.setAccessibleName(f"{before}{link_text}{after}")

    @Slot(str)
    def on_linkActivated(self, url: str) -> None:
        page = web_page(url) if url == self._url else None
        if page is not None:
            self._opener.open(page)
            self.opened.emit(url)

    @Slot(str)
    def on_opener_failed(self, text: str) -> None:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.warning(self.window(), _("Could not open"), text)


class Details(QWidget):
    """A "Details…" button that shows (or hides) the technical side of a message.

    Takes no room at all while there is no detail to give.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.button = QPushButton(_("Details…"), self)
        self.button.setObjectName("detailsButton")
        self.button.setCheckable(True)
        self.button.setFlat(True)
        self.button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.button.setToolTip(_("The technical details, for whoever helps you set this up"))
        self.button.toggled.connect(self.on_button_toggled)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.button)
        row.addStretch(1)
        layout.addLayout(row)
        self.label = QLabel(self)
        self.label.setObjectName("detailsText")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setVisible(False)
        layout.addWidget(self.label)
        mute(self.label)
        self.setVisible(False)

    def text(self) -> str:
        return self.label.text()

    def set_text(self, text: str) -> None:
        self.label.setText(text)
        self.button.setToolTip(text or "")
        self.setVisible(bool(text))
        if not text:
            self.button.setChecked(False)

    @Slot(bool)
    def on_button_toggled(self, checked: bool) -> None:
        self.label.setVisible(checked)
        self.button.setText(_("Hide details") if checked else _("Details…"))


def page_name(url: str) -> str:
    """How a page is named in a sentence: its host and path, e.g. ``api.foxapi.cc/pricing``."""
    link = QUrl(url)
    return (link.host() + link.path()).rstrip("/") or url


# -- labels that fit and buttons that lead ------------------------------------------------------

class ElidedLabel(QLabel):
    """One line of text that shortens itself to the width it gets, never widening its layout.

    ``separator`` (e.g. ``" · "``): drop whole trailing parts first ("5.0 s · 640 × 480 · …"),
    so a detail is shown whole or not at all. Without it, ``mode`` elides (e.g. in the middle,
    keeping a file's extension). ``whole``: the text is shown whole or not at all (a hint
    cut to "JPG or …" reads as broken). ``full_text()`` is the whole text; callers set the
    tooltip.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None, *,
                 mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
                 separator: str | None = None, whole: bool = False) -> None:
        super().__init__(parent)
        self._full = ""
        self._mode = mode
        self._separator = separator
        self._whole = whole
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.set_full_text(text)

    def full_text(self) -> str:
        return self._full

    def set_full_text(self, text: str) -> None:
        if text == self._full and self.text():
            return
        self._full = text
        self.setAccessibleDescription(text)
        self.updateGeometry()
        self._fit()

    def is_elided(self) -> bool:
        return self.text() != self._full

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        margins = self.contentsMargins()
        width = (self.fontMetrics().horizontalAdvance(self._full)
                 + margins.left() + margins.right() + 2 * self.margin() + 2)
        return QSize(width, hint.height())

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(min(self.fontMetrics().horizontalAdvance("…") * 3, self.sizeHint().width()),
                     hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        width = self.contentsRect().width() - 2 * self.margin()
        if self._whole:
            fits = self.fontMetrics().horizontalAdvance(self._full) <= width
            shown = self._full if fits else ""
            if shown != self.text():
                super().setText(shown)
            return
        shown = elide_text(self._full, self.fontMetrics().horizontalAdvance, width,
                           mode=self._mode, separator=self._separator,
                           fallback=lambda t, w: self.fontMetrics().elidedText(t, self._mode, w))
        if shown != self.text():
            super().setText(shown)


def elide_text(text: str, advance: Callable[[str], int], width: int, *,
               mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
               separator: str | None = None,
               fallback: Callable[[str, int], str] | None = None) -> str:
    """``text`` if it fits ``width``, else whole leading parts + "…", else the fallback's cut."""
    if not text or advance(text) <= width:
        return text
    if separator:
        parts = text.split(separator)
        for count in range(len(parts) - 1, 0, -1):
            candidate = separator.join(parts[:count]) + separator.rstrip() + " …"
            if advance(candidate) <= width:
                return candidate
    if fallback is not None:
        return fallback(text, max(0, width))
    return text


class PrimaryButton(QPushButton):
    """The one action a screen leads to (Generate, Try the demo): filled with the accent.

    The colours come from the palette around the button and follow light/dark switches.
    """

    def __init__(self, text: str, parent: QWidget | None = None, *,
                 object_name: str = "primaryButton", min_width: int = 160) -> None:
        super().__init__(text, parent)
        self.setObjectName(object_name)
        self.setMinimumWidth(min_width)
        self.setMinimumHeight(38)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        # Clicks leave the focus where it was; Tab still reaches it (and draws the ring).
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        font = self.font()
        font.setBold(True)
        self.setFont(font)
        self._style = ""
        self._restyle()

    def _source_palette(self) -> QPalette:
        parent = self.parentWidget()
        return parent.palette() if parent is not None else QGuiApplication.palette()

    def _restyle(self) -> None:
        palette = self._source_palette()
        accent = palette.color(QPalette.ColorRole.Highlight)
        text = palette.color(QPalette.ColorRole.HighlightedText)
        dark = is_dark(palette)
        hover = accent.lighter(112) if dark else accent.darker(112)
        pressed = accent.lighter(125) if dark else accent.darker(130)
        ring = palette.color(QPalette.ColorRole.WindowText)
        sel = f"QPushButton#{self.objectName()}"
        style = (
            f"{sel} {{ background: {accent.name()}; color: {text.name()}; border: none;"
            " border-radius: 5px; padding: 6px 18px; }"
            f"{sel}:hover {{ background: {hover.name()}; }}"
            f"{sel}:pressed {{ background: {pressed.name()}; }}"
            f"{sel}:focus {{ border: 2px solid {ring.name()}; padding: 4px 16px; }}"
            f"{sel}:disabled {{ background: palette(button); color: palette(mid);"
            " border: 1px solid palette(mid); padding: 5px 17px; }")
        if style != self._style:
            self._style = style
            self.setStyleSheet(style)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange,
                            QEvent.Type.ParentChange):
            self._restyle()
