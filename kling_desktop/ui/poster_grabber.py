"""Grabbing a clip's first frame with Qt's own player (``QMediaPlayer`` + ``QVideoSink``).

Its own module so QtMultimedia is loaded when a clip is first decoded, not with the
window: :mod:`kling_desktop.ui.posters` hands out :class:`PosterGrabber` by name.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QImage
from PySide6.QtMultimedia import QMediaPlayer, QVideoFrame, QVideoSink

from kling_desktop.convert.qt_threads import qt_thread_safe
from kling_desktop.i18n import _

POSTER_TIMEOUT_MS = 8000   # the form's preview waits this long


class PosterGrabber(QObject):
    """Fetches a clip's first frame with QMediaPlayer + QVideoSink (decoding is Qt's own
    threads; only the frame's conversion runs in the grabber's thread).

    One clip at a time; a newer ``grab`` replaces the older one.
    """

    grabbed = Signal(str, QImage, int)   # source, first frame, duration in ms (-1: unknown)
    failed = Signal(str, str)            # source, reason

    def __init__(self, parent: QObject | None = None, *,
                 timeout_ms: int = POSTER_TIMEOUT_MS) -> None:
        super().__init__(parent)
        self._player: QMediaPlayer | None = None
        self._sink: QVideoSink | None = None
        self._source: str | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(timeout_ms)
        self._timer.timeout.connect(self.on_timer_timeout)

    def source(self) -> str | None:
        return self._source

    def grab(self, source: str) -> None:
        if self._player is None:
            self._player = qt_thread_safe(QMediaPlayer(self))
            self._sink = qt_thread_safe(QVideoSink(self))
            self._player.setVideoSink(self._sink)
            self._sink.videoFrameChanged.connect(self.on_sink_videoFrameChanged)
            self._player.errorOccurred.connect(self.on_player_errorOccurred)
        self._source = source
        self._player.setSource(QUrl.fromLocalFile(source))
        self._player.play()
        self._timer.start()

    def cancel(self) -> None:
        self._timer.stop()
        self._source = None
        if self._player is not None:
            self._player.stop()
            self._player.setSource(QUrl())

    @Slot(QVideoFrame)
    def on_sink_videoFrameChanged(self, frame: QVideoFrame) -> None:
        if self._source is None or self._player is None or not frame.isValid():
            return
        image = frame.toImage()
        if image.isNull():   # stopping sends an empty frame: not a poster
            return
        source, duration = self._source, int(self._player.duration())
        self.cancel()
        self.grabbed.emit(source, image, duration if duration > 0 else -1)

    @Slot(QMediaPlayer.Error, str)
    def on_player_errorOccurred(self, error: QMediaPlayer.Error, text: str) -> None:
        source = self._source
        if source is None or error == QMediaPlayer.Error.NoError:
            return
        self.cancel()
        self.failed.emit(source, text or _("the clip could not be decoded"))

    @Slot()
    def on_timer_timeout(self) -> None:
        source = self._source
        if source is not None:
            self.cancel()
            self.failed.emit(source, _("no frame arrived in time"))
