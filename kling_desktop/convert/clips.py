"""Clips with Qt Multimedia: trim, re-encode into MP4, scale down, fit a size, a standard
frame rate, the sound kept in step.

The bundled FFmpeg decodes through a :class:`QMediaPlayer` into a :class:`QVideoSink`
(and a :class:`QAudioBufferOutput` for the sound); each frame and sound buffer inside the
span is re-stamped from the span's start and handed to a :class:`QMediaRecorder` through
:class:`QVideoFrameInput` / :class:`QAudioBufferInput`. Memory stays bounded: at most
8 frames (2 at 4K) wait for the encoder, the player is paused while they do. The
player runs at 1× when the sound is kept (Qt time-stretches the sound at other rates)
and at 4× otherwise. See the package's docstring for the measurements.
"""

from __future__ import annotations

import collections
import contextlib
import math
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import (
    QByteArray,
    QCoreApplication,
    QEventLoop,
    QLoggingCategory,
    QSize,
    QTimer,
    QUrl,
)
from PySide6.QtMultimedia import (
    QAudioBuffer,
    QAudioBufferInput,
    QAudioBufferOutput,
    QMediaCaptureSession,
    QMediaFormat,
    QMediaMetaData,
    QMediaPlayer,
    QMediaRecorder,
    QVideoFrame,
    QVideoFrameInput,
    QVideoSink,
)

from kling_desktop.convert.naming import free_name, partial_name
from kling_desktop.convert.qt_threads import qt_thread_safe
from kling_desktop.engine.fixes import (
    ConversionCancelled,
    ConversionError,
    ConversionPlan,
    Converted,
    FitSize,
    Trim,
    VideoTarget,
    video_target,
)
from kling_desktop.engine.media import MediaError, probe_video
from kling_desktop.i18n import _

__all__ = ["ClipFacts", "convert_clip", "read_facts", "video_codec"]

_QUEUE = 8                 # 1080p frames waiting for the encoder before the player pauses
_QUEUE_PIXELS = _QUEUE * 1920 * 1080   # fewer of larger frames (2 at 4K)
_STALL_SECONDS = 60.0      # no frame for this long: the conversion has stalled
_LOAD_SECONDS = 30.0
_SLACK_US = 1000           # a frame stamped within 1 ms of a cut point counts as on it
_END_MARGIN_US = 2000      # the span's end, moved in (see _Job.__init__)
_app: QCoreApplication | None = None


@dataclass(frozen=True)
class ClipFacts:
    duration: float          # seconds
    width: int
    height: int
    fps: float
    has_audio: bool


def video_codec() -> tuple[QMediaFormat.VideoCodec, str]:
    """H.264 where the platform's encoder has it (Windows, macOS), else MPEG-4 Part 2
    (Linux: the bundled FFmpeg has no H.264 encoder); with the label shown to people."""
    codecs = QMediaFormat(QMediaFormat.FileFormat.MPEG4).supportedVideoCodecs(
        QMediaFormat.ConversionMode.Encode)
    if QMediaFormat.VideoCodec.H264 in codecs:
        return QMediaFormat.VideoCodec.H264, "MP4 H.264"
    return QMediaFormat.VideoCodec.MPEG4, "MP4 MPEG-4"


def _ensure_app() -> None:
    """Qt Multimedia needs an application object; the command line has none."""
    global _app
    if QCoreApplication.instance() is None:
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("convert: create the Qt application on the main thread first")
        _app = QCoreApplication([])
        # Headless (the command line): Qt Multimedia's notes are for its developers.
        QLoggingCategory.setFilterRules("qt.multimedia*=false")


def _unreadable(source: Path, reason: str) -> ConversionError:
    return ConversionError(
        _("The clip “{name}” could not be read ({reason}).").format(name=source.name,
                                                                   reason=reason),
        fix=_("Export it again as MP4 with another program, or pick another clip."))


def _run(loop: QEventLoop, check: QTimer) -> None:
    check.start(50)
    loop.exec()
    check.stop()


def read_facts(source: Path, cancel: threading.Event | None = None) -> ClipFacts:
    """Length, size, frame rate and sound of a clip Qt Multimedia can read."""
    _ensure_app()
    loop = QEventLoop()
    player = qt_thread_safe(QMediaPlayer())
    failure: list[str] = []
    began = time.monotonic()

    def status(value: QMediaPlayer.MediaStatus) -> None:
        if value in (QMediaPlayer.MediaStatus.LoadedMedia, QMediaPlayer.MediaStatus.InvalidMedia):
            if value is QMediaPlayer.MediaStatus.InvalidMedia:
                failure.append(player.errorString() or "invalid media")
            loop.quit()

    def watch() -> None:
        if (cancel is not None and cancel.is_set()) or \
                time.monotonic() - began > _LOAD_SECONDS:
            loop.quit()

    check = QTimer()
    check.timeout.connect(watch)
    player.mediaStatusChanged.connect(status)
    def error(_error: QMediaPlayer.Error, text: str) -> None:
        failure.append(text)
        loop.quit()

    player.errorOccurred.connect(error)
    player.setSource(QUrl.fromLocalFile(str(source)))
    if player.mediaStatus() is not QMediaPlayer.MediaStatus.LoadedMedia:
        _run(loop, check)
    try:
        if cancel is not None and cancel.is_set():
            raise ConversionCancelled()
        if failure or player.mediaStatus() is not QMediaPlayer.MediaStatus.LoadedMedia:
            raise _unreadable(source, failure[0] if failure else "timeout")
        meta = player.metaData()
        size = meta.value(QMediaMetaData.Key.Resolution)
        tracks = player.videoTracks()
        if not isinstance(size, QSize) or not size.isValid():
            size = tracks[0].value(QMediaMetaData.Key.Resolution) if tracks else QSize()
        fps = meta.value(QMediaMetaData.Key.VideoFrameRate)
        if not isinstance(fps, int | float) and tracks:
            fps = tracks[0].value(QMediaMetaData.Key.VideoFrameRate)
        if not player.hasVideo() or not isinstance(size, QSize) or not size.isValid():
            raise _unreadable(source, "no picture")
        return ClipFacts(player.duration() / 1000.0, size.width(), size.height(),
                         float(fps) if isinstance(fps, int | float) and fps > 0 else 30.0,
                         player.hasAudio())
    finally:
        player.setSource(QUrl())


def convert_clip(plan: ConversionPlan, *, output_dir: Path,
                 progress: object = None, cancel: threading.Event | None = None) -> Converted:
    facts = read_facts(plan.source, cancel)
    target = video_target(plan, width=facts.width, height=facts.height, fps=facts.fps,
                          duration=facts.duration, has_audio=facts.has_audio)
    codec, label = video_codec()
    trim = plan.find(Trim)
    stem = plan.source.stem
    if isinstance(trim, Trim) or target.start > 0 or target.end < facts.duration - 0.05:
        stem += f" {target.start:g}-{target.end:g}s"
    final = free_name(output_dir, stem, ".mp4")
    limit = plan.limit_bytes
    fit = plan.find(FitSize)
    if isinstance(fit, FitSize):
        limit = min(limit, fit.max_bytes)
    partial = partial_name(final)
    try:
        for attempt in (1, 2, 3):
            _Recording(plan.source, partial, target, codec, progress, cancel).run()
            size = partial.stat().st_size
            if size <= limit:
                break
            if attempt == 3:
                raise ConversionError(
                    _("The converted clip is still {size} MB; the limit is {limit} MB.").format(
                        size=f"{size / 2**20:.1f}", limit=f"{limit / 2**20:g}"),
                    fix=_("Trim it shorter, then convert it again."))
            # The encoder overshot: ask for fewer bits in proportion, with room to spare.
            target = video_target(
                plan, width=facts.width, height=facts.height, fps=facts.fps,
                duration=facts.duration, has_audio=facts.has_audio,
                size_factor=(0.9 ** attempt) * limit / size)
        os.replace(partial, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    try:
        info = probe_video(final)
    except MediaError as exc:
        final.unlink(missing_ok=True)
        raise ConversionError(exc.message, fix=exc.fix) from None
    return Converted(plan.source, final, "video", label, info.size_bytes, info.duration,
                     info.width, info.height, (target.start, target.end),
                     bool(info.has_audio))


class _Recording:
    """One pass: play the span through the recorder into ``partial``."""

    def __init__(self, source: Path, partial: Path, target: VideoTarget,
                 codec: QMediaFormat.VideoCodec, progress: object,
                 cancel: threading.Event | None) -> None:
        self.source, self.partial, self.target = source, partial, target
        self.progress = progress if callable(progress) else None
        self.cancel = cancel
        self.start_us = round(target.start * 1e6)
        # The sound stops a hair early: the MP4 muxer rounds the movie's length up to the
        # next millisecond, so a clip cut at exactly 10 s read 10.001 s and was refused.
        self.end_us = round(target.end * 1e6) - _END_MARGIN_US
        self.period_us = 1e6 / target.fps
        self.queue = max(2, min(_QUEUE, _QUEUE_PIXELS // max(1, target.width * target.height)))
        self.frames: collections.deque[QVideoFrame] = collections.deque()
        self.sounds: collections.deque[QAudioBuffer] = collections.deque()
        self.last_frame_us = -1
        self.last_slot = -1
        self.sound_until_us = 0
        self.video_done = False
        self.audio_done = not target.keep_audio
        self.finishing = False
        self.paused_by_us = False
        self.cancelled = False
        self.failure: str | None = None
        self.last_activity = time.monotonic()
        self.loop = QEventLoop()
        self.player = qt_thread_safe(QMediaPlayer())
        self.sink = qt_thread_safe(QVideoSink())
        self.player.setVideoSink(self.sink)
        self.session = qt_thread_safe(QMediaCaptureSession())
        # (Qt warns "Invalid frameRate 0" at the first frame: the decoded frames carry no
        # rate; the recorder's own, set below, is the one written.)
        self.video_in = qt_thread_safe(QVideoFrameInput())
        self.session.setVideoFrameInput(self.video_in)
        self.audio_out: QAudioBufferOutput | None = None
        self.audio_in: QAudioBufferInput | None = None
        if target.keep_audio:
            self.audio_out = qt_thread_safe(QAudioBufferOutput())
            self.player.setAudioBufferOutput(self.audio_out)
            self.audio_in = qt_thread_safe(QAudioBufferInput())
            self.session.setAudioBufferInput(self.audio_in)
        self.recorder = qt_thread_safe(QMediaRecorder())
        self.session.setRecorder(self.recorder)
        media = QMediaFormat(QMediaFormat.FileFormat.MPEG4)
        media.setVideoCodec(codec)
        media.setAudioCodec(QMediaFormat.AudioCodec.AAC)
        self.recorder.setMediaFormat(media)
        self.recorder.setEncodingMode(QMediaRecorder.EncodingMode.ConstantBitRateEncoding)
        self.recorder.setVideoResolution(target.width, target.height)
        self.recorder.setVideoFrameRate(target.fps)
        self.recorder.setVideoBitRate(target.video_bits_per_second)
        self.recorder.setAudioBitRate(128_000)
        self.recorder.setOutputLocation(QUrl.fromLocalFile(str(partial)))
        self.check = QTimer()
        self.check.timeout.connect(self._watch)

    def run(self) -> None:
        self.sink.videoFrameChanged.connect(self._on_frame)
        if self.audio_out is not None and self.audio_in is not None:
            self.audio_out.audioBufferReceived.connect(self._on_sound)
            self.audio_in.readyToSendAudioBuffer.connect(self._drain)
        self.video_in.readyToSendVideoFrame.connect(self._drain)
        self.player.mediaStatusChanged.connect(self._on_status)
        self.player.errorOccurred.connect(lambda _e, text: self._fail(text or "player"))
        self.recorder.errorOccurred.connect(lambda _e, text: self._fail(text or "recorder"))
        self.recorder.recorderStateChanged.connect(self._on_recorder)
        self.player.setSource(QUrl.fromLocalFile(str(self.source)))
        try:
            _run(self.loop, self.check)
        finally:
            self.player.stop()
            self.player.setSource(QUrl())
            if self.recorder.recorderState() is not QMediaRecorder.RecorderState.StoppedState:
                self.recorder.stop()
        if self.cancelled:
            raise ConversionCancelled()
        if self.failure is not None:
            raise _unreadable(self.source, self.failure)
        if not self.partial.exists() or self.last_frame_us < 0:
            raise _unreadable(self.source, "no frames")

    # -- the player ------------------------------------------------------------------

    def _on_status(self, status: QMediaPlayer.MediaStatus) -> None:
        if status is QMediaPlayer.MediaStatus.LoadedMedia and not self.recorder.isAvailable():
            self._fail("recorder unavailable")
        elif status is QMediaPlayer.MediaStatus.LoadedMedia and self.last_frame_us < 0 \
                and self.player.playbackState() is QMediaPlayer.PlaybackState.StoppedState:
            self.player.setPosition(int(self.target.start * 1000))
            self.player.setPlaybackRate(1.0 if self.target.keep_audio else 4.0)
            self.player.play()
        elif status is QMediaPlayer.MediaStatus.EndOfMedia:
            self.video_done = self.audio_done = True
            self._finish()
        elif status is QMediaPlayer.MediaStatus.InvalidMedia:
            self._fail(self.player.errorString() or "invalid media")

    def _on_frame(self, frame: QVideoFrame) -> None:
        if self.video_done or not frame.isValid():
            return
        stamp = frame.startTime()
        if stamp < 0 or stamp <= self.last_frame_us or stamp < self.start_us - _SLACK_US:
            return
        self.last_activity = time.monotonic()
        if stamp >= self.end_us - _SLACK_US:
            self.video_done = True
            self._finish()
            return
        self.last_frame_us = stamp
        relative = max(0, stamp - self.start_us)
        slot = math.floor(relative / self.period_us + 0.5)
        if slot <= self.last_slot:
            return        # a faster source: this frame falls in a slot already filled
        self.last_slot = slot
        begin = round(slot * self.period_us)
        frame.setStartTime(begin)
        frame.setEndTime(round(begin + self.period_us))
        if self.recorder.recorderState() is QMediaRecorder.RecorderState.StoppedState:
            self.recorder.record()
        self.frames.append(frame)
        if callable(self.progress):
            self.progress(relative // 1000, (self.end_us + _END_MARGIN_US - self.start_us) // 1000)
        self._drain()
        if len(self.frames) >= self.queue and not self.paused_by_us:
            self.paused_by_us = True
            self.player.pause()

    def _on_sound(self, buffer: QAudioBuffer) -> None:
        if self.audio_done or not buffer.isValid():
            return
        fmt = buffer.format()
        stamp, length = buffer.startTime(), buffer.duration()
        if stamp + length <= self.start_us or stamp + length <= self.sound_until_us:
            return
        data = bytes(buffer.data())
        head = max(0, self.start_us - stamp, self.sound_until_us - stamp)
        tail = max(0, stamp + length - self.end_us)
        first = fmt.bytesForFrames(fmt.framesForDuration(head))
        last = len(data) - fmt.bytesForFrames(fmt.framesForDuration(tail))
        if last > first:
            begin = stamp + head
            self.sounds.append(QAudioBuffer(QByteArray(data[first:last]), fmt,
                                            begin - self.start_us))
            self.sound_until_us = begin + fmt.durationForBytes(last - first)
        if stamp + length >= self.end_us:
            self.audio_done = True
            self._finish()
        self._drain()

    # -- the recorder ----------------------------------------------------------------

    def _drain(self) -> None:
        while self.frames and self.video_in.sendVideoFrame(self.frames[0]):
            self.frames.popleft()
        while self.sounds and self.audio_in is not None and \
                self.audio_in.sendAudioBuffer(self.sounds[0]):
            self.sounds.popleft()
        if self.paused_by_us and len(self.frames) <= self.queue // 4 and not self.finishing:
            self.paused_by_us = False
            self.player.play()
        if self.finishing and not self.frames and not self.sounds and \
                self.recorder.recorderState() is QMediaRecorder.RecorderState.RecordingState:
            self.recorder.stop()

    def _finish(self) -> None:
        if self.video_done and self.audio_done and not self.finishing:
            self.finishing = True
            self.player.pause()
            self._drain()

    def _on_recorder(self, state: QMediaRecorder.RecorderState) -> None:
        if state is QMediaRecorder.RecorderState.StoppedState and (
                self.finishing or self.cancelled or self.failure is not None):
            self.loop.quit()

    def _fail(self, text: str) -> None:
        if self.failure is None:
            self.failure = text
        self._stop_now()

    def _stop_now(self) -> None:
        self.player.stop()
        if self.recorder.recorderState() is QMediaRecorder.RecorderState.StoppedState:
            self.loop.quit()
        else:
            self.recorder.stop()

    def _watch(self) -> None:
        if self.cancel is not None and self.cancel.is_set() and not self.cancelled:
            self.cancelled = True
            self._stop_now()
        elif self.finishing:
            self._drain()
        elif time.monotonic() - self.last_activity > _STALL_SECONDS and self.failure is None:
            self._fail("stalled")
