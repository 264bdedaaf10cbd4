"""A clip's first frame, for the clip slot's preview: Qt's own player decodes it."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QImage
from PySide6.QtMultimedia import QMediaPlayer, QVideoFrame, QVideoSink

POSTER_TIMEOUT_MS = 8000    # give up on a poster frame after this long


class PosterGrabber(QObject):
    """Fetches a clip's first frame with QMediaPlayer + QVideoSink (decoding is Qt's own threads).

    One clip at a time; a newer ``grab`` replaces the older one.
    """

    grabbed = Signal(str, QImage, int)   # source, first frame, duration in ms (-1: unknown)
    failed = Signal(str, str)            # source, reason

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._player: QMediaPlayer | None = None
        self._sink: QVideoSink | None = None
        self._source: str | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(POSTER_TIMEOUT_MS)
        self._timer.timeout.connect(self.on_timer_timeout)

    def source(self) -> str | None:
        return self._source

    def grab(self, source: str) -> None:
        if self._player is None:
            self._player = QMediaPlayer(self)
            self._sink = QVideoSink(self)
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
        if image.isNull():
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
        self.failed.emit(source, text or "the clip could not be decoded")

    @Slot()
    def on_timer_timeout(self) -> None:
        source = self._source
        if source is not None:
            self.cancel()
            self.failed.emit(source, "no frame arrived in time")

