"""Pictures with Qt alone: any format Qt's image plugins read → PNG (JPEG when the PNG
would pass 10 MB), scaled down while reading, padded or cropped to an allowed shape.

Read with :class:`QImageReader` (scaled and clipped while decoding, so a 40+ MP picture
is never held at full size), painted onto a canvas, written with :class:`QSaveFile`
(renamed into place only when complete).
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect, QSaveFile, QSize, Qt
from PySide6.QtGui import QColor, QImage, QImageReader, QPainter

from kling_desktop.convert.naming import free_name
from kling_desktop.engine.fixes import (
    ConversionCancelled,
    ConversionError,
    ConversionPlan,
    Converted,
    Crop,
    Pad,
    picture_target,
)
from kling_desktop.i18n import _

__all__ = ["convert_picture", "edge_colour"]

_JPEG_QUALITY = 90


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise ConversionCancelled()


def convert_picture(plan: ConversionPlan, *, output_dir: Path,
                    progress: object = None, cancel: threading.Event | None = None
                    ) -> Converted:
    reader = QImageReader(str(plan.source))
    reader.setAutoTransform(True)           # a phone photo stands the right way up
    size = reader.size()
    if not reader.canRead() or not size.isValid():
        raise ConversionError(
            _("The picture “{name}” could not be read ({reason}).").format(
                name=plan.source.name, reason=reader.errorString()),
            fix=_("Save it as PNG or JPG with another program, or pick another picture."))
    width, height = size.width(), size.height()
    transformed = bool(reader.transformation().value & 4)   # rotated 90°: sides swap
    crop = plan.find(Crop)
    if isinstance(crop, Crop) and not transformed:
        reader.setClipRect(QRect(crop.x, crop.y, crop.width, crop.height))
    target = picture_target(plan, width=height if transformed else width,
                            height=width if transformed else height)
    if (target.width, target.height) != (width, height) and not transformed:
        reader.setScaledSize(QSize(target.width, target.height))
    _check(cancel)
    image = reader.read()
    if image.isNull():
        raise ConversionError(
            _("The picture “{name}” could not be read ({reason}).").format(
                name=plan.source.name, reason=reader.errorString()),
            fix=_("Save it as PNG or JPG with another program, or pick another picture."))
    if image.size() != QSize(target.width, target.height):
        image = image.scaled(target.width, target.height)
    _check(cancel)
    if (target.canvas_width, target.canvas_height) != (target.width, target.height):
        pad = plan.find(Pad)
        colour = QColor(pad.colour) if isinstance(pad, Pad) and pad.colour else \
            edge_colour(image)
        canvas = QImage(target.canvas_width, target.canvas_height, QImage.Format.Format_RGB32)
        canvas.fill(colour)
        painter = QPainter(canvas)
        painter.drawImage(target.offset_x, target.offset_y, image)
        painter.end()
        image = canvas
    elif image.hasAlphaChannel() and target.fmt == "jpeg":
        image = image.convertToFormat(QImage.Format.Format_RGB32)
    data, fmt = _encode(image, target.fmt, plan.limit_bytes, cancel)
    final = free_name(output_dir, plan.source.stem, ".png" if fmt == "png" else ".jpg")
    saver = QSaveFile(str(final))
    if not saver.open(QIODevice.OpenModeFlag.WriteOnly) or saver.write(data) != len(data) \
            or not saver.commit():
        raise ConversionError(
            _("The converted picture could not be saved in {folder} ({reason}).").format(
                folder=output_dir, reason=saver.errorString()),
            fix=_("Check that the disk has room and that the folder may be written to."))
    return Converted(plan.source, final, "image", "PNG" if fmt == "png" else "JPEG",
                     len(data), None, image.width(), image.height())


def _encode(image: QImage, fmt: str, limit: int, cancel: threading.Event | None
            ) -> tuple[bytes, str]:
    """The picture's bytes as PNG, else JPEG, else a smaller JPEG, under ``limit``."""
    if fmt == "png":
        data = _bytes(image, "png")
        if len(data) <= limit:
            return data, "png"
    if image.hasAlphaChannel():
        image = image.convertToFormat(QImage.Format.Format_RGB32)
    while True:
        _check(cancel)
        data = _bytes(image, "jpeg")
        if len(data) <= limit or min(image.width(), image.height()) < 600:
            return data, "jpeg"
        image = image.scaled(int(image.width() * 0.8), int(image.height() * 0.8))


def _bytes(image: QImage, fmt: str) -> bytes:
    array = QByteArray()
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # PySide6 takes the format as str at run time (its stubs say bytes, which it refuses).
    image.save(buffer, fmt, _JPEG_QUALITY if fmt == "jpeg" else -1)  # type: ignore[call-overload]
    buffer.close()
    return bytes(array.data())


def edge_colour(image: QImage) -> QColor:
    """The average colour of the picture's outermost rows and columns (a padding that
    continues the background); white for a picture too small to tell."""
    if image.width() < 2 or image.height() < 2:
        return QColor("white")
    strips = (QRect(0, 0, image.width(), 1), QRect(0, image.height() - 1, image.width(), 1),
              QRect(0, 0, 1, image.height()), QRect(image.width() - 1, 0, 1, image.height()))
    red = green = blue = 0
    for rect in strips:
        strip = image.copy(rect).scaled(1, 1, mode=Qt.TransformationMode.SmoothTransformation)
        pixel = strip.pixelColor(0, 0)
        red, green, blue = red + pixel.red(), green + pixel.green(), blue + pixel.blue()
    return QColor(red // 4, green // 4, blue // 4)

