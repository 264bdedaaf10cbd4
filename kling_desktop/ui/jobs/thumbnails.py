"""The jobs list's thumbnails: each job's picture, decoded once off the main thread."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QObject, QSize, Signal
from PySide6.QtGui import QImage

from kling_desktop.sources import is_link
from kling_desktop.ui.images import Picture, load_picture
from kling_desktop.ui.tasks import TaskRunner

__all__ = ["THUMB_SIDE", "ThumbnailCache"]

THUMB_SIDE = 64  # logical pixels


class ThumbnailCache(QObject):
    """Thumbnails by picture path, decoded on the TaskRunner; ``ready(path)`` when one lands.

    Links get none (nothing is downloaded for a thumbnail)."""

    ready = Signal(str)

    def __init__(self, tasks: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._images: dict[str, QImage | None] = {}
        self._loading: set[str] = set()

    def get(self, source: str, dpr: float) -> QImage | None:
        if is_link(source):
            return None
        image = self._images.get(source)
        if image is not None or source in self._images:
            return image
        if source not in self._loading and not self._tasks.closed:
            self._loading.add(source)
            side = max(THUMB_SIDE, round(THUMB_SIDE * dpr))
            load_picture(self._tasks, source, QSize(side, side),
                         partial(self._on_loaded, source), crop=True)
        return None

    def has(self, source: str) -> bool:
        return self._images.get(source) is not None

    def _on_loaded(self, source: str, picture: Picture) -> None:
        self._loading.discard(source)
        image = picture.image
        if image is not None and not image.isNull():
            image.setDevicePixelRatio(max(1.0, image.width() / THUMB_SIDE))
            self._images[source] = image
        else:
            self._images[source] = None  # missing or unreadable: keep the placeholder
        self.ready.emit(source)
