"""The jobs list's thumbnails: the result's poster frame once there is one, else the
job's picture; both made off the main thread and kept.

Posters come from :class:`kling_desktop.ui.posters.Thumbnails` (the same grabber and
disk cache as the library's tiles); pictures from the window's one decoder.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, QSize, Signal, Slot
from PySide6.QtGui import QImage, QPixmap

from kling_desktop.engine.jobs import Job, JobState
from kling_desktop.paths import app_paths
from kling_desktop.sources import is_link
from kling_desktop.ui.images import Picture, load_picture
from kling_desktop.ui.posters import Thumbnails
from kling_desktop.ui.tasks import TaskRunner

__all__ = ["THUMB_SIDE", "ThumbnailCache", "result_video"]

THUMB_SIDE = 64  # logical pixels


def result_video(job: Job) -> Path | None:
    """The saved video of a completed job (not checked on disk here)."""
    if job.state is JobState.COMPLETED and job.output_path:
        return Path(job.output_path)
    return None


class ThumbnailCache(QObject):
    """A job's thumbnail: its result's poster, or its picture until then.

    ``get`` answers at once (None while it is made) and ``ready`` says when one
    lands. Links get no picture (nothing is downloaded for a thumbnail).
    """

    ready = Signal(str)
    wanted = Signal()     # posters no paint asked for again were dropped: repaint

    def __init__(self, tasks: TaskRunner, parent: QObject | None = None, *,
                 cache_dir: Path | None = None, dpr: float = 1.0) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._images: dict[str, QImage | None] = {}
        self._loading: set[str] = set()
        side = max(THUMB_SIDE, round(THUMB_SIDE * max(1.0, dpr)))
        self.posters = Thumbnails(cache_dir or app_paths().cache_dir, tasks,
                                  box=QSize(side * 2, side * 2), parent=self)
        self.posters.ready.connect(self.ready)
        self.posters.wanted.connect(self.wanted)

    def get(self, job: Job, dpr: float) -> QImage | QPixmap | None:
        """The result's poster if it is ready, else the job's picture (if decoded)."""
        video = result_video(job)
        if video is not None:
            poster = self.posters.pixmap(str(video), video)
            if poster is not None:
                return poster
        return self.picture(job.spec.image, dpr)

    def shows_poster(self, job: Job) -> bool:
        """Whether :meth:`get` now answers with the result's poster (asks for it if not)."""
        video = result_video(job)
        return video is not None and self.posters.pixmap(str(video), video) is not None

    def picture(self, source: str, dpr: float) -> QImage | None:
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

    def idle(self) -> bool:
        return not self._loading and self.posters.idle()

    def _on_loaded(self, source: str, picture: Picture) -> None:
        self._loading.discard(source)
        image = picture.image
        if image is not None and not image.isNull():
            image.setDevicePixelRatio(max(1.0, image.width() / THUMB_SIDE))
            self._images[source] = image
        else:
            self._images[source] = None  # missing or unreadable: keep the placeholder
        self.ready.emit(source)

    @Slot()
    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """End the poster thread (bounded). True when it ended."""
        return self.posters.shutdown(timeout_ms)
