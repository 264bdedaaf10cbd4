"""Convert a picture or clip the provider refuses into one it takes (Qt, never widgets).

The one step both faces call: :func:`convert` carries out a
:class:`~kling_desktop.engine.fixes.ConversionPlan` (decided by the Qt-free core) and
returns a :class:`~kling_desktop.engine.fixes.Converted`. The window runs it on its
TaskRunner, the command line on its main thread; ``progress(done, total)`` reports and
``cancel`` (a :class:`threading.Event`) stops it, leaving no partial file. The original
is never changed; the result is written under a temporary name next to the job's kept
inputs and renamed only when complete.

Why a module of its own: decoding and encoding need Qt's classes (QtGui's QImageReader,
Qt Multimedia's player and recorder) and the core never imports Qt, while the command
line needs the same work without a window. So this package may import QtCore, QtGui and
QtMultimedia, never QtWidgets or ``kling_desktop.ui``; the command line reaches Qt only
through it (import-linter contracts 2 and 6). The rules stay in :mod:`engine.fixes`.

The encoder decision (measured on this 2-core Linux machine, 2026-12, PySide6 6.11.3):

- (a) **Qt Multimedia's recording path** (QMediaPlayer → QVideoSink/QAudioBufferOutput
  → QVideoFrameInput/QAudioBufferInput → QMediaRecorder), using the FFmpeg 7.1.5 (LGPL)
  that PySide6 already bundles: **adds no library** to the one-folder bundle, only these
  modules (~30 KB): Qt Multimedia, its FFmpeg plugin and libraries are already in it for
  the player (``packaging/kling_desktop.spec``), so it stays at ~160 MiB, under 250 MB.
  ``benchmarks/bench_convert.py``:
  trimming a 30 s 1080p30 H.264 clip with sound to 10 s takes 10.3 s (0.34× the clip's
  30 s; 1.03× the 10 s kept: with sound the player must run at 1×, since Qt's
  pitch-corrected playback at 2× hands over half the samples), 3.6 s without sound (at
  4×, 300 of 300 frames, none dropped); a 10 s 720p WebM → MP4 with sound 10.3 s. Peak
  RSS 225–254 MB for 1080p (the same for 10 s and 30 s kept: frames are streamed, at most
  8 wait for the encoder and the player is paused while they do), 123 MB for 720p. 4K is
  the weak case: 6 s of 3840 × 2160 with sound took 8.8 s (1.46×) and ~660 MB (FFmpeg's
  own frame pools at 4K; 2 frames queued).
  Works under a QCoreApplication (no display needed: the CLI). The output is an MP4 the
  app's checks accept and QMediaPlayer plays. Its one weakness: on Linux the bundled
  FFmpeg has no H.264 encoder (``supportedVideoCodecs(Encode)`` = MPEG-1/2, MPEG-4 Part 2,
  Motion JPEG), so Linux writes **MPEG-4 Part 2 video + AAC in MP4**; Windows and macOS
  write **H.264** (Media Foundation / VideoToolbox). ``shared/API.md`` only says "MP4/MOV"
  for the clip, so MPEG-4 Part 2 in MP4 is within its words; H.264 is chosen wherever the
  platform has it (:func:`clips.video_codec`).
- (b) **PyAV 18.1.0**: wheel 35.8 MB, installed 104 MB (av 32 MB + av.libs 72 MB) →
  the bundle would reach ~264 MB (> 250 MB). Its FFmpeg is built with
  ``--enable-libx264 --enable-libx265``, i.e. **GPL**, which a proprietary app cannot
  ship. Rejected.
- (c) **Lossless keyframe cut by remuxing**: fast and keeps H.264, but not frame-accurate
  and needs an MP4 muxer (PyAV, or a hand-written ``stbl`` rewriter); it cannot convert
  WebM/MKV/AVI/GIF at all. Not built now; worth adding later for MP4/MOV H.264 input whose
  cut points fall on keyframes (no re-encode, H.264 kept on Linux too).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from kling_desktop.engine.fixes import ConversionPlan, Converted

__all__ = ["Progress", "convert"]

Progress = Callable[[int, int], None]


def convert(plan: ConversionPlan, *, output_dir: Path, progress: Progress | None = None,
            cancel: threading.Event | None = None) -> Converted:
    """Carry out ``plan``; the result lands in ``output_dir`` (created if needed).

    Raises ConversionError (nothing written) or ConversionCancelled (nothing left)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    if plan.field == "image":
        from kling_desktop.convert.pictures import convert_picture

        return convert_picture(plan, output_dir=output_dir, progress=progress, cancel=cancel)
    from kling_desktop.convert.clips import convert_clip

    return convert_clip(plan, output_dir=output_dir, progress=progress, cancel=cancel)
