"""Pad or crop a picture whose shape is outside 1:2.5–2.5:1, with a preview.

:class:`PadDialog` shows the picture on its padded canvas and lets the artist pick the
colour (the edges' own colour by default, white, black, or any colour);
:class:`CropDialog` lets them drag the frame over the picture, its shape locked to the
nearest the provider takes. Both hand back the engine's fix (:class:`Pad` /
:class:`Crop`); the form converts on its TaskRunner. The picture is decoded on a worker
(:func:`load_preview`) before a dialog opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QButtonGroup,
    QColorDialog,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kling_desktop.engine.checks import IMAGE_MAX_ASPECT
from kling_desktop.engine.fixes import ConversionPlan, Crop, Pad, picture_target
from kling_desktop.i18n import _
from kling_desktop.ui.images import decode_picture
from kling_desktop.ui.widgets import mute

__all__ = ["CropDialog", "Loaded", "PadDialog", "load_preview"]

PREVIEW_SIDE = 1200


@dataclass(frozen=True)
class Loaded:
    image: QImage          # scaled for the screen
    width: int             # the picture's own size
    height: int


def load_preview(path: Path) -> Loaded:
    """On a worker: the picture decoded at most PREVIEW_SIDE px on its longest side (by the
    window's one picture decoder), with its own upright size."""
    picture = decode_picture(path, QSize(PREVIEW_SIDE, PREVIEW_SIDE))
    if picture.image is None:
        raise OSError(picture.error)
    size = picture.source_size if picture.source_size.isValid() else picture.image.size()
    return Loaded(picture.image, size.width(), size.height())


def edge_colour(image: QImage) -> QColor:
    """The average colour of the picture's four edges (the default padding)."""
    small = image.scaled(32, 32, Qt.AspectRatioMode.IgnoreAspectRatio,
                         Qt.TransformationMode.SmoothTransformation)
    total = [0, 0, 0]
    count = 0
    for x in range(32):
        for y in range(32):
            if x in (0, 31) or y in (0, 31):
                colour = small.pixelColor(x, y)
                total[0] += colour.red()
                total[1] += colour.green()
                total[2] += colour.blue()
                count += 1
    return QColor(*(value // count for value in total))


class _Canvas(QWidget):
    """The picture drawn to fit, with the padded canvas around it or the crop frame."""

    frame_moved = Signal()

    def __init__(self, loaded: Loaded, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loaded = loaded
        self.pad_colour: QColor | None = None   # padding mode: the canvas's colour
        self.frame: QRectF | None = None        # crop mode: in the picture's pixels
        self._grab: QPointF | None = None
        self.setMinimumSize(420, 300)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(640, 420)

    def _layout(self) -> tuple[QRectF, QRectF]:
        """(the canvas, the picture) in widget coordinates."""
        w, h = self.loaded.width, self.loaded.height
        cw, ch = float(w), float(h)
        if self.pad_colour is not None:
            if w > IMAGE_MAX_ASPECT * h:
                ch = w / IMAGE_MAX_ASPECT
            elif h > IMAGE_MAX_ASPECT * w:
                cw = h / IMAGE_MAX_ASPECT
        scale = min((self.width() - 16) / cw, (self.height() - 16) / ch)
        canvas = QRectF(0, 0, cw * scale, ch * scale)
        canvas.moveCenter(QPointF(self.width() / 2, self.height() / 2))
        picture = QRectF(0, 0, w * scale, h * scale)
        picture.moveCenter(canvas.center())
        return canvas, picture

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        canvas, picture = self._layout()
        if self.pad_colour is not None:
            painter.fillRect(canvas, self.pad_colour)
        painter.drawImage(picture, self.loaded.image)
        if self.frame is not None:
            scale = picture.width() / self.loaded.width
            frame = QRectF(picture.left() + self.frame.left() * scale,
                           picture.top() + self.frame.top() * scale,
                           self.frame.width() * scale, self.frame.height() * scale)
            shade = QColor(0, 0, 0, 140)
            for part in (QRectF(picture.left(), picture.top(), picture.width(),
                                frame.top() - picture.top()),
                         QRectF(picture.left(), frame.bottom(), picture.width(),
                                picture.bottom() - frame.bottom()),
                         QRectF(picture.left(), frame.top(), frame.left() - picture.left(),
                                frame.height()),
                         QRectF(frame.right(), frame.top(), picture.right() - frame.right(),
                                frame.height())):
                if part.width() > 0 and part.height() > 0:
                    painter.fillRect(part, shade)
            painter.setPen(QPen(QColor("white"), 2))
            painter.drawRect(frame)
        else:
            painter.setPen(QPen(self.palette().color(self.foregroundRole()), 1,
                                Qt.PenStyle.DotLine))
            painter.drawRect(canvas)
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.frame is not None and event.button() == Qt.MouseButton.LeftButton:
            self._grab = event.position()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._grab is None or self.frame is None:
            return
        _canvas, picture = self._layout()
        scale = picture.width() / self.loaded.width
        delta = (event.position() - self._grab) / scale
        self._grab = event.position()
        self.move_frame(delta.x(), delta.y())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._grab = None

    def move_frame(self, dx: float, dy: float) -> None:
        """Move the crop frame by (dx, dy) picture pixels, kept inside the picture."""
        if self.frame is None:
            return
        frame = QRectF(self.frame)
        frame.translate(dx, dy)
        frame.moveLeft(max(0.0, min(frame.left(), self.loaded.width - frame.width())))
        frame.moveTop(max(0.0, min(frame.top(), self.loaded.height - frame.height())))
        self.frame = frame
        self.update()
        self.frame_moved.emit()


class _ShapeDialog(QDialog):
    def __init__(self, source: Path, loaded: Loaded, title: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = source
        self.loaded = loaded
        self.setWindowTitle(title)
        self.setModal(True)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(16, 16, 16, 12)
        self._layout.setSpacing(10)
        self.canvas = _Canvas(loaded, self)
        self._layout.addWidget(self.canvas, 1)
        self.outcome_label = QLabel(self)
        self.outcome_label.setObjectName("shapeOutcome")
        mute(self.outcome_label)

    def _finish(self, apply_text: str) -> None:
        self._layout.addWidget(self.outcome_label)
        buttons = QDialogButtonBox(self)
        self.apply_button = buttons.addButton(apply_text, QDialogButtonBox.ButtonRole.AcceptRole)
        self.apply_button.setObjectName("shapeApply")
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self._layout.addWidget(buttons)
        self.resize(720, 560)

    def _show_outcome(self, fix: Pad | Crop) -> None:
        plan = ConversionPlan("image", self.source, (fix,))
        target = picture_target(plan, width=self.loaded.width, height=self.loaded.height)
        self.outcome_label.setText(_("Comes out: {width} × {height} px, {format}.").format(
            width=target.canvas_width, height=target.canvas_height, format="PNG"))


class PadDialog(_ShapeDialog):
    """Pad to the nearest accepted shape; the colour: the edges', white, black or any."""

    def __init__(self, source: Path, loaded: Loaded, parent: QWidget | None = None) -> None:
        super().__init__(source, loaded, _("Pad {name}").format(name=source.name), parent)
        self.setObjectName("padDialog")
        self._edges = edge_colour(loaded.image)
        self._custom = QColor("#808080")
        row = QHBoxLayout()
        row.setSpacing(12)
        row.addWidget(QLabel(_("Colour:"), self))
        self.group = QButtonGroup(self)
        self.choices: dict[str, QRadioButton] = {}
        for key, text in (("edges", _("The edges' colour")), ("white", _("White")),
                          ("black", _("Black")), ("custom", _("Another colour…"))):
            button = QRadioButton(text, self)
            button.setObjectName(f"pad_{key}")
            self.group.addButton(button)
            self.choices[key] = button
            row.addWidget(button)
        row.addStretch(1)
        self.choices["edges"].setChecked(True)
        self.group.buttonClicked.connect(self.on_group_buttonClicked)
        self._layout.addLayout(row)
        self._finish(_("Pad"))
        self._update()

    def colour(self) -> QColor:
        if self.choices["white"].isChecked():
            return QColor("white")
        if self.choices["black"].isChecked():
            return QColor("black")
        if self.choices["custom"].isChecked():
            return self._custom
        return self._edges

    def pad(self) -> Pad:
        """The engine's fix; the edges' colour is the engine's default (None)."""
        if self.choices["edges"].isChecked():
            return Pad()
        return Pad(colour=self.colour().name())

    @Slot(QRadioButton)
    def on_group_buttonClicked(self, button: QRadioButton) -> None:
        if button is self.choices["custom"]:
            colour = QColorDialog.getColor(self._custom, self, _("Padding colour"))
            if colour.isValid():
                self._custom = colour
        self._update()

    def _update(self) -> None:
        self.canvas.pad_colour = self.colour()
        self.canvas.update()
        self._show_outcome(self.pad())


class CropDialog(_ShapeDialog):
    """Drag the frame over the picture; its shape is the nearest the provider takes."""

    def __init__(self, source: Path, loaded: Loaded, parent: QWidget | None = None) -> None:
        super().__init__(source, loaded, _("Crop {name}").format(name=source.name), parent)
        self.setObjectName("cropDialog")
        w, h = loaded.width, loaded.height
        if w >= h:
            fw, fh = min(w, int(h * IMAGE_MAX_ASPECT)), h
        else:
            fw, fh = w, min(h, int(w * IMAGE_MAX_ASPECT))
        self.canvas.frame = QRectF((w - fw) / 2, (h - fh) / 2, fw, fh)
        self.canvas.frame_moved.connect(self.on_canvas_frame_moved)
        hint = QLabel(_("Drag the frame over the part to keep; its shape is the widest the "
                        "provider takes."), self)
        hint.setWordWrap(True)
        mute(hint)
        self._layout.addWidget(hint)
        self._finish(_("Crop"))
        self._show_outcome(self.crop())

    def crop(self) -> Crop:
        frame = self.canvas.frame
        assert frame is not None
        return Crop(round(frame.left()), round(frame.top()), round(frame.width()),
                    round(frame.height()))

    @Slot()
    def on_canvas_frame_moved(self) -> None:
        self._show_outcome(self.crop())
