"""Real media files for tests, made with ffmpeg (test-only: the app never needs it).

Each ``make_*`` writes into ``folder`` and returns the path. Files are generated
once per session into a private cache keyed by their parameters and then copied
(never linked: tests may chmod, truncate or rename their copy), so a whole test
run encodes each distinct file once. Resolutions are tiny wherever the size
does not matter and x264 runs with ``-preset ultrafast``.

Also here: the "bad input" corpus (truncated PNG, GIF renamed .jpg, PNG padded
past 11 MB with a private chunk, a sparse 100 MB+ MP4, ...) and :func:`ffprobe`.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import struct
import subprocess
import tempfile
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

VideoFormat = Literal["mp4", "mov", "webm", "mkv", "avi"]
ImageFormat = Literal["png", "jpeg", "gif", "webp", "bmp", "tiff"]
Layout = Literal["moov-at-end", "faststart", "fragmented"]

_IMAGE_EXT = {"png": "png", "jpeg": "jpg", "gif": "gif", "webp": "webp", "bmp": "bmp",
              "tiff": "tiff"}

_cache_lock = threading.RLock()  # re-entrant: a build may make another file
_cache_dir: Path | None = None


def ffmpeg_available() -> bool:
    return shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None


def _cache() -> Path:
    global _cache_dir
    with _cache_lock:
        if _cache_dir is None:
            _cache_dir = Path(tempfile.mkdtemp(prefix="kling-test-media-"))
            atexit.register(shutil.rmtree, _cache_dir, True)
        return _cache_dir


def _run(argv: list[str]) -> None:
    if shutil.which(argv[0]) is None:
        raise RuntimeError(f"{argv[0]} is needed to make test media; install it (e.g. apt-get "
                           "install ffmpeg)")
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stderr[-2000:]}")


def _cached(key: str, build: Callable[[Path], None]) -> Path:
    """The cached file named ``key``, built by ``build(tmp_path)`` on first use."""
    target = _cache() / key
    with _cache_lock:
        if not target.exists():
            partial = target.with_name(f".partial-{os.getpid()}-{key}")
            build(partial)
            os.replace(partial, target)
    return target


def _deliver(cached: Path, folder: Path, name: str | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / (name or cached.name)
    shutil.copyfile(cached, dest)  # always a fresh copy: an earlier test may have changed it
    return dest


def make_video(
    folder: Path,
    *,
    seconds: float = 4.0,
    width: int = 640,
    height: int = 480,
    fmt: VideoFormat = "mp4",
    audio: bool = True,
    fps: int = 24,
    layout: Layout = "moov-at-end",
    name: str | None = None,
) -> Path:
    """A real, playable clip (test pattern + a tone) made by ffmpeg.

    ``layout`` (mp4/mov only): ffmpeg's default puts ``moov`` after the media
    data; "faststart" moves it to the front; "fragmented" writes an empty
    ``moov`` plus ``moof`` fragments (as browsers' recorders and streamers do).
    ``name`` renames the copy in ``folder`` (e.g. unicode, spaces, wrong extension).
    """
    ext = "mkv" if fmt == "mkv" else fmt
    key = f"video-{seconds:g}s-{width}x{height}-{fps}fps-{'a' if audio else 'na'}-{layout}.{ext}"

    def build(out: Path) -> None:
        pattern = f"testsrc2=size={width}x{height}:rate={fps}:duration={seconds}"
        argv = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", pattern]
        if audio:
            tone = f"sine=frequency=440:sample_rate=44100:duration={seconds}"
            argv += ["-f", "lavfi", "-i", tone]
        if fmt == "webm":
            argv += ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k"]
            if audio:
                argv += ["-c:a", "libopus"]
        else:
            argv += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
            if audio:
                argv += ["-c:a", "aac", "-b:a", "64k"]
        if fmt in ("mp4", "mov"):
            if layout == "faststart":
                argv += ["-movflags", "+faststart"]
            elif layout == "fragmented":
                argv += ["-movflags", "frag_keyframe+empty_moov"]
        container = {"mp4": "mp4", "mov": "mov", "webm": "webm", "mkv": "matroska", "avi": "avi"}
        argv += ["-t", f"{seconds}", "-f", container[fmt], str(out)]
        _run(argv)

    return _deliver(_cached(key, build), folder, name)


def make_image(
    folder: Path,
    *,
    width: int = 600,
    height: int = 800,
    fmt: ImageFormat = "png",
    progressive: bool = False,
    name: str | None = None,
) -> Path:
    """A real picture (ffmpeg test pattern, any size incl. odd ones).

    ``progressive`` JPEGs need ImageMagick (see :func:`progressive_jpeg_supported`).
    """
    key = f"image-{width}x{height}{'-progressive' if progressive else ''}.{_IMAGE_EXT[fmt]}"

    def build(out: Path) -> None:
        if progressive:
            if fmt != "jpeg":
                raise ValueError("progressive is for JPEG only")
            base = make_image(out.parent / f".{out.name}-src", width=width, height=height)
            _run(["convert", str(base), "-interlace", "JPEG", f"jpeg:{out}"])
            shutil.rmtree(base.parent)
            return
        muxer = {"png": "image2", "jpeg": "image2", "gif": "gif", "webp": "webp",
                 "bmp": "image2", "tiff": "image2"}[fmt]
        codec = {"png": "png", "jpeg": "mjpeg", "gif": "gif", "webp": "libwebp",
                 "bmp": "bmp", "tiff": "tiff"}[fmt]
        argv = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
                "-i", f"testsrc=size={width}x{height}:rate=1", "-frames:v", "1", "-c:v", codec]
        if fmt == "jpeg":  # 4:4:4 keeps odd sizes exact
            argv += ["-pix_fmt", "yuvj444p", "-q:v", "3"]
        if fmt == "png":
            argv += ["-pix_fmt", "rgb24"]
        argv += ["-f", muxer, str(out)]
        _run(argv)

    return _deliver(_cached(key, build), folder, name)


def progressive_jpeg_supported() -> bool:
    return shutil.which("convert") is not None


# ----------------------------------------------------------- bad-input corpus


def make_empty(folder: Path, name: str = "empty.png") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"")
    return path


def make_text(folder: Path, name: str = "notes.jpg", text: str = "not a picture\n") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def make_truncated(source: Path, folder: Path, *, keep: float | int = 0.5,
                   name: str | None = None) -> Path:
    """A copy of ``source`` cut after ``keep`` bytes (int) or that fraction (float)."""
    data = source.read_bytes()
    cut = keep if isinstance(keep, int) else int(len(data) * keep)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"truncated-{source.name}")
    path.write_bytes(data[:cut])
    return path


def make_truncated_png(folder: Path, name: str = "truncated.png") -> Path:
    png = make_image(folder / ".src", width=400, height=400)
    return make_truncated(png, folder, keep=0.6, name=name)


def make_gif_renamed_jpg(folder: Path, name: str = "character.jpg") -> Path:
    gif = make_image(folder / ".src", width=400, height=400, fmt="gif")
    return make_renamed(gif, folder, name)


def make_renamed(source: Path, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / name
    shutil.copyfile(source, dest)
    return dest


def _png_chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data))


def make_padded_png(folder: Path, *, total_bytes: int = 11 * 1024 * 1024 + 4096,
                    width: int = 600, height: int = 800, name: str = "padded.png") -> Path:
    """A valid PNG grown past ``total_bytes`` by a private ancillary chunk ("klPd").

    Readers ignore such chunks, so it still opens everywhere; the padding is a
    hole in a sparse file where the file system supports it.
    """
    png = make_image(folder / ".src", width=width, height=height).read_bytes()
    ihdr_end = 8 + 12 + 13
    pad = max(0, total_bytes - len(png) - 12)
    crc = zlib.crc32(b"klPd")
    zeros = bytes(1024 * 1024)
    remaining = pad
    while remaining:
        step = min(remaining, len(zeros))
        crc = zlib.crc32(zeros[:step], crc)
        remaining -= step
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with path.open("wb") as f:
        f.write(png[:ihdr_end])
        f.write(struct.pack(">I", pad) + b"klPd")
        f.seek(pad, os.SEEK_CUR)
        f.write(struct.pack(">I", crc))
        f.write(png[ihdr_end:])
    return path


def make_large_png(folder: Path, *, width: int = 8000, height: int = 8000,
                   name: str | None = None) -> Path:
    """A valid RGB PNG of ``width`` × ``height`` pixels that is tiny on disk.

    Every row is black, so zlib packs ~1000:1 (8000 × 8000 is ~190 KB) and no
    ffmpeg is needed; decoding it in full would still take width × height × 4 bytes.
    """
    key = f"large-{width}x{height}.png"

    def build(out: Path) -> None:
        ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)   # 8-bit RGB
        packer = zlib.compressobj(9)
        row = bytes(1 + 3 * width)   # filter byte 0, then black pixels
        with out.open("wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr))
            parts = [packer.compress(row) for _ in range(height)]
            parts.append(packer.flush())
            f.write(_png_chunk(b"IDAT", b"".join(parts)))
            f.write(_png_chunk(b"IEND", b""))

    return _deliver(_cached(key, build), folder, name)


def make_sparse_large_mp4(folder: Path, *, mdat_bytes: int = 110 * 1024 * 1024,
                          seconds: float = 5.0, name: str = "large.mp4") -> Path:
    """An MP4-shaped file over 100 MB that takes a few KB on disk.

    ``ftyp`` + a 64-bit-size ``mdat`` that is a hole + the real ``moov`` of a
    small clip (so probing must seek past the media data to find it). Players
    would show garbage; probes see a valid header.
    """
    small = make_video(folder / ".src", seconds=seconds, width=640, height=480, fps=2)
    boxes = split_boxes(small.read_bytes())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with path.open("wb") as f:
        f.write(boxes[b"ftyp"])
        f.write(struct.pack(">I4sQ", 1, b"mdat", 16 + mdat_bytes))
        f.seek(mdat_bytes, os.SEEK_CUR)
        f.write(boxes[b"moov"])
    return path


def split_boxes(data: bytes) -> dict[bytes, bytes]:
    """Top-level ISO-BMFF boxes of ``data`` by type (the first of each type)."""
    out: dict[bytes, bytes] = {}
    pos = 0
    while pos + 8 <= len(data):
        size, typ = struct.unpack_from(">I4s", data, pos)
        if size == 1:
            size = struct.unpack_from(">Q", data, pos + 8)[0]
        elif size == 0:
            size = len(data) - pos
        out.setdefault(typ, data[pos : pos + size])
        pos += size
    return out


# ------------------------------------------------------------------- ffprobe


@dataclass(frozen=True)
class ProbeResult:
    format_names: str
    width: int
    height: int
    duration: float
    has_audio: bool


def ffprobe(path: Path) -> ProbeResult:
    """What ffprobe says about a file (first video stream)."""
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries",
         "format=format_name,duration:stream=codec_type,width,height",
         "-of", "json", str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    )
    data = json.loads(done.stdout)
    streams = data.get("streams", [])
    video: dict[str, object] = next(
        (s for s in streams if s.get("codec_type") == "video"), {}
    )
    duration = data.get("format", {}).get("duration")
    return ProbeResult(
        format_names=str(data.get("format", {}).get("format_name", "")),
        width=int(str(video.get("width", 0))),
        height=int(str(video.get("height", 0))),
        duration=float(duration) if duration not in (None, "N/A") else 0.0,
        has_audio=any(s.get("codec_type") == "audio" for s in streams),
    )
