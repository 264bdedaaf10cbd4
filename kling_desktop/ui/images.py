"""The window's one picture decoder: files become images no bigger than they are shown.

Every preview and thumbnail of a picture file (the form's picture slot, the
gallery's kept inputs and cached posters, the jobs list) goes through
:func:`decode_picture`, which

- reads the header first and asks the format's reader to scale while decoding
  (``QImageReader.setScaledSize``; JPEG really decodes at the smaller size),
  keeping the aspect ratio, or filling and centre-cropping a box (``crop``);
- applies the EXIF orientation (``setAutoTransform``);
- refuses, without decoding, a picture whose reader can only decode it whole
  (PNG) when that whole would be over the provider's own limit
  (:data:`~kling_desktop.engine.checks.IMAGE_MAX_PIXELS`): a tiny file
  can hold an 8000 × 8000 picture, a quarter of a gigabyte once decoded;
- returns a :class:`Picture`: the ``QImage`` (safe to make and pass between
  threads) or, instead of raising, the reason there is none.

:func:`load_picture` runs it on the window's :class:`~kling_desktop.ui.tasks.TaskRunner`
and hands the :class:`Picture` to one callback on the main thread, where it may
become a ``QPixmap``. :func:`configure_image_limits` sets Qt's per-image
allocation limit once for the whole app, as a backstop for what the header does
not tell.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QImage, QImageIOHandler, QImageReader

from kling_desktop.i18n import _
from kling_desktop.ui.tasks import TaskRunner, Ticket

__all__ = [
    "ALLOCATION_LIMIT_MB",
    "Picture",
    "configure_image_limits",
    "decode_picture",
    "load_picture",
]

ALLOCATION_LIMIT_MB = 256
"""Qt refuses to allocate a single decoded image larger than this (MB)."""

PictureCallback = Callable[["Picture"], None]


@dataclass(frozen=True)
class Picture:
    """What :func:`decode_picture` gives back: the image, or why there is none.

    ``source_size`` is the picture's own size from its header (invalid if unknown).
    """

    image: QImage | None
    error: str = ""
    source_size: QSize = field(default_factory=QSize)

    @property
    def ok(self) -> bool:
        return self.image is not None


def configure_image_limits(megabytes: int = ALLOCATION_LIMIT_MB) -> None:
    """Set Qt's allocation limit for any one decoded image, for the whole app (call at start)."""
    QImageReader.setAllocationLimit(megabytes)


def decode_picture(path: str | os.PathLike[str], box: QSize, *, crop: bool = False) -> Picture:
    """Decode the picture at ``path`` no larger than ``box``; any thread, no raising on bad files.

    Without ``crop`` the picture keeps its shape inside ``box`` and is never enlarged.
    With ``crop`` it fills ``box`` exactly (enlarged if smaller), centred, the overflow cut.
    """
    if box.width() <= 0 or box.height() <= 0:
        raise ValueError(f"an empty box: {box.width()} × {box.height()}")
    reader = QImageReader(os.fspath(path))
    reader.setAutoTransform(True)
    stored = reader.size()   # from the header; invalid when the format does not say
    # The box is for the picture as shown (upright); the reader scales it as stored.
    turned = bool(reader.transformation()
                  & QImageIOHandler.Transformation.TransformationRotate90)
    size = stored.transposed() if turned else stored
    if not reader.canRead():
        return Picture(None, _reason(reader, _("this is not a picture Qt can read")), size)
    if stored.isValid() and not stored.isEmpty():
        # The largest picture decoded whole when its reader cannot scale while reading
        # (4 bytes a pixel). (On a worker: the checks load after the first paint.)
        from kling_desktop.engine.checks import IMAGE_MAX_PIXELS

        too_big = stored.width() * stored.height() > IMAGE_MAX_PIXELS
        if too_big and not reader.supportsOption(QImageIOHandler.ImageOption.ScaledSize):
            return Picture(None, _("the picture is too large to preview ({width} × {height} "
                                   "px)").format(width=size.width(), height=size.height()),
                           size)
        _scale_into(reader, stored, box.transposed() if turned else box, crop=crop)
    image = reader.read()
    if image.isNull():
        return Picture(None, _reason(reader, _("the picture could not be decoded")), size)
    if image.width() > box.width() or image.height() > box.height():
        # A reader that ignored the scaled size (or a header that lied): bound it here.
        mode = (Qt.AspectRatioMode.KeepAspectRatioByExpanding if crop
                else Qt.AspectRatioMode.KeepAspectRatio)
        image = image.scaled(box, mode, Qt.TransformationMode.SmoothTransformation)
        if crop:
            image = image.copy(_centred(image.size(), box))
    return Picture(image, "", size if size.isValid() else image.size())


def load_picture(tasks: TaskRunner, path: str | os.PathLike[str], box: QSize,
                 on_done: PictureCallback, *, crop: bool = False,
                 key: str | None = None) -> Ticket:
    """Decode on the window's task runner; ``on_done(Picture)`` on the main thread.

    A failure (even an unexpected one) arrives as a :class:`Picture` without an
    image, so callers have one path. ``key`` supersedes an older request (see TaskRunner).
    """
    return tasks.run(decode_picture, os.fspath(path), QSize(box), crop=crop, key=key,
                     on_done=partial(_deliver, on_done),
                     on_failed=partial(_deliver_failure, on_done))


def _scale_into(reader: QImageReader, size: QSize, box: QSize, *, crop: bool) -> None:
    if crop:
        scaled = size.scaled(box, Qt.AspectRatioMode.KeepAspectRatioByExpanding)
        reader.setScaledSize(scaled)
        reader.setScaledClipRect(_centred(scaled, box))
    elif size.width() > box.width() or size.height() > box.height():
        reader.setScaledSize(size.scaled(box, Qt.AspectRatioMode.KeepAspectRatio))


def _centred(size: QSize, box: QSize) -> QRect:
    width, height = min(size.width(), box.width()), min(size.height(), box.height())
    return QRect((size.width() - width) // 2, (size.height() - height) // 2, width, height)


def _reason(reader: QImageReader, fallback: str) -> str:
    text = reader.errorString().strip()
    return fallback if not text or text == "Unknown error" else text


def _deliver(on_done: PictureCallback, result: object) -> None:
    if isinstance(result, Picture):
        on_done(result)
    else:  # pragma: no cover - decode_picture only returns Pictures
        on_done(Picture(None, _("the picture could not be decoded")))


def _deliver_failure(on_done: PictureCallback, error: BaseException) -> None:
    on_done(Picture(None, str(error) or type(error).__name__))
