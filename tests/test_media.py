"""media.py: header probing of real files, compared with ffprobe, and its failure modes."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kling_desktop.engine import media
from kling_desktop.engine.media import (
    MediaError,
    describe_format,
    identify,
    probe_image,
    probe_image_stream,
    probe_video,
    probe_video_stream,
    sniff,
)
from tests.media import (
    ffprobe,
    make_empty,
    make_gif_renamed_jpg,
    make_image,
    make_padded_png,
    make_sparse_large_mp4,
    make_truncated,
    make_truncated_png,
    make_video,
    progressive_jpeg_supported,
    split_boxes,
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


class CountingReader:
    """Wraps a binary file and counts what the probe asks for."""

    def __init__(self, raw: io.FileIO) -> None:
        self.raw = raw
        self.bytes_read = 0
        self.reads = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self.raw.read(size)
        self.bytes_read += len(data)
        self.reads += 1
        return data

    def seek(self, offset: int, whence: int = 0, /) -> int:
        return self.raw.seek(offset, whence)


# ---------------------------------------------------------- videos vs ffprobe

SMALL = {"width": 160, "height": 120, "fps": 12}
VIDEO_CASES: dict[str, dict[str, object]] = {
    "mp4 with audio, moov at end": {"fmt": "mp4"},  # the default 640x480, 24 fps
    "mp4 without audio": {"fmt": "mp4", "audio": False, **SMALL},
    "mp4 faststart": {"fmt": "mp4", "layout": "faststart", **SMALL},
    "mp4 fragmented": {"fmt": "mp4", "layout": "fragmented", "seconds": 5.0, **SMALL},
    "fragmented without audio": {"fmt": "mp4", "layout": "fragmented", "audio": False, **SMALL},
    "mov": {"fmt": "mov", **SMALL},
    "mov faststart portrait": {"fmt": "mov", "layout": "faststart", "width": 120, "height": 208},
    "12 s at 30 fps": {"fmt": "mp4", "seconds": 12.0, "fps": 30, "width": 128, "height": 96},
}


@pytest.mark.parametrize("params", VIDEO_CASES.values(), ids=VIDEO_CASES.keys())
def test_video_probe_matches_ffprobe(folder: Path, params: dict[str, object]) -> None:
    path = make_video(folder, **params)  # type: ignore[arg-type]
    info = probe_video(path)
    expected = ffprobe(path)
    assert info.container == params["fmt"]
    assert (info.width, info.height) == (expected.width, expected.height)
    assert info.duration == pytest.approx(expected.duration, abs=0.05)
    assert info.has_audio is expected.has_audio is params.get("audio", True)
    assert info.size_bytes == path.stat().st_size
    assert info.path == path


def test_moov_position_does_not_change_the_result(folder: Path) -> None:
    end = probe_video(make_video(folder, layout="moov-at-end"))
    front = probe_video(make_video(folder, layout="faststart"))
    order_end = list(split_boxes(end.path.read_bytes()))
    order_front = list(split_boxes(front.path.read_bytes()))
    assert order_end.index(b"moov") > order_end.index(b"mdat")
    assert order_front.index(b"moov") < order_front.index(b"mdat")
    assert (end.width, end.height, end.duration, end.has_audio) == (
        front.width, front.height, front.duration, front.has_audio)


def test_old_quicktime_without_ftyp_is_mov(folder: Path) -> None:
    data = make_video(folder, fmt="mov").read_bytes()
    ftyp = split_boxes(data)[b"ftyp"]
    assert data.startswith(ftyp)
    old = folder / "old-quicktime.mov"
    old.write_bytes(data[len(ftyp):])  # starts with wide/mdat, like pre-2001 QuickTime files
    assert old.read_bytes()[4:8] in (b"wide", b"mdat", b"free")
    info = probe_video(old)
    assert info.container == "mov"
    assert info.duration == pytest.approx(4.0, abs=0.05)


def test_last_box_with_size_zero_runs_to_the_end(folder: Path) -> None:
    boxes = split_boxes(make_video(folder, layout="faststart").read_bytes())
    path = folder / "size-zero.mp4"
    path.write_bytes(boxes[b"ftyp"] + boxes[b"moov"] + struct.pack(">I4s", 0, b"mdat") + bytes(500))
    assert probe_video(path).duration == pytest.approx(4.0, abs=0.05)


def test_rotated_track_reports_the_displayed_size(folder: Path) -> None:
    data = bytearray(make_video(folder, width=640, height=360, audio=False).read_bytes())
    tkhd = data.index(b"tkhd") + 4  # payload; version 0
    matrix = tkhd + 24 + 16
    struct.pack_into(">9i", data, matrix, 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    path = folder / "rotated.mp4"
    path.write_bytes(bytes(data))
    info = probe_video(path)
    assert (info.width, info.height) == (360, 640)


def test_sparse_100mb_file_is_probed_from_a_few_kb(folder: Path) -> None:
    path = make_sparse_large_mp4(folder, mdat_bytes=150 * 1024 * 1024)
    size = path.stat().st_size
    assert size > 150 * 1024 * 1024
    with io.FileIO(path, "rb") as raw:
        counter = CountingReader(raw)
        info = probe_video_stream(counter, size, path)
    assert info.container == "mp4"
    assert info.duration == pytest.approx(5.0, abs=0.05)
    assert info.size_bytes == size
    assert counter.bytes_read < 16 * 1024, counter.bytes_read  # moov of a 5 s clip + headers
    assert counter.reads < 100
    assert probe_video(path) == info


def test_padded_11mb_png_is_probed_from_its_chunk_headers(folder: Path) -> None:
    path = make_padded_png(folder)
    size = path.stat().st_size
    with io.FileIO(path, "rb") as raw:
        counter = CountingReader(raw)
        info = probe_image_stream(counter, size, path)
    assert (info.format, info.width, info.height) == ("png", 600, 800)
    assert info.size_bytes > 11 * 1024 * 1024
    assert counter.bytes_read < 8 * 1024


# -------------------------------------------------------------------- images


@pytest.mark.parametrize(("fmt", "width", "height"),
                         [("png", 600, 800), ("png", 9000, 300), ("jpeg", 640, 480),
                          ("jpeg", 301, 999)])
def test_image_probe_matches_ffprobe(folder: Path, fmt: str, width: int, height: int) -> None:
    path = make_image(folder, fmt=fmt, width=width, height=height)  # type: ignore[arg-type]
    info = probe_image(path)
    expected = ffprobe(path)
    assert (info.format, info.width, info.height) == (fmt, expected.width, expected.height)
    assert (info.width, info.height) == (width, height)
    assert info.size_bytes == path.stat().st_size


@pytest.mark.skipif(not progressive_jpeg_supported(), reason="ImageMagick makes progressive JPEGs")
def test_progressive_jpeg(folder: Path) -> None:
    path = make_image(folder, fmt="jpeg", width=500, height=700, progressive=True)
    assert b"\xff\xc2" in path.read_bytes()  # SOF2: progressive
    info = probe_image(path)
    assert (info.format, info.width, info.height) == ("jpeg", 500, 700)
    assert (ffprobe(path).width, ffprobe(path).height) == (500, 700)


def test_jpeg_with_data_after_its_end_is_complete(folder: Path) -> None:
    """Phones append a clip after the picture ("motion photos"): still a whole JPEG."""
    jpeg = make_image(folder, fmt="jpeg").read_bytes()
    clip = make_video(folder, seconds=3.0, width=160, height=120).read_bytes()
    path = folder / "motion-photo.jpg"
    path.write_bytes(jpeg + clip + bytes(70_000))
    assert probe_image(path).width == 600


def test_truncated_jpeg_and_png(folder: Path) -> None:
    for fmt in ("jpeg", "png"):
        whole = make_image(folder, fmt=fmt, width=400, height=400)
        for keep in (0.3, 0.9, len(whole.read_bytes()) - 1):
            cut = make_truncated(whole, folder / f"cut-{keep}", keep=keep)
            with pytest.raises(MediaError) as caught:
                probe_image(cut)
            assert caught.value.kind == "truncated", (fmt, keep)
            assert "incomplete" in caught.value.message
            assert "again" in caught.value.fix
    with pytest.raises(MediaError, match="incomplete"):
        probe_image(make_truncated_png(folder))


@pytest.mark.parametrize("layout", ["moov-at-end", "faststart", "fragmented"])
def test_truncated_videos(folder: Path, layout: str) -> None:
    whole = make_video(folder, layout=layout)  # type: ignore[arg-type]
    cut = make_truncated(whole, folder / f"cut-{layout}", keep=0.5)
    with pytest.raises(MediaError) as caught:
        probe_video(cut)
    assert caught.value.kind == "truncated"
    assert "incomplete" in caught.value.message


# ------------------------------------------------------------ naming formats

FTYP_HEIC = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"heic", 0, b"mif1", b"heic") + bytes(40)
FTYP_AVIF = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"avif", 0, b"mif1", b"avif") + bytes(40)
FTYP_MIF1_AVIF = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"mif1", 0, b"mif1", b"avif")
FTYP_M4A = struct.pack(">I4s4sI4s", 20, b"ftyp", b"M4A ", 0, b"isom") + bytes(40)


@pytest.mark.parametrize(("head", "kind"), [
    (FTYP_HEIC, "heic"), (FTYP_AVIF, "avif"), (FTYP_MIF1_AVIF, "avif"), (FTYP_M4A, "m4a"),
    (b"II*\x00" + bytes(60), "tiff"), (b"MM\x00*" + bytes(60), "tiff"),
    (b"BM" + bytes(12) + struct.pack("<I", 40) + bytes(40), "bmp"),
    (b"RIFF\x00\x00\x00\x00AVI LIST", "avi"), (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "webm"),
    (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", "mkv"),
    (b"<!DOCTYPE html><html><body>Not found</body></html>", "html"),
    (b"\xef\xbb\xbfjust some notes\n", "text"), (b"", "empty"),
    (b"%PDF-1.7\n", "pdf"), (bytes(range(256)) * 4, None),
])
def test_identify_names_formats(head: bytes, kind: str | None) -> None:
    assert identify(head) == kind
    assert describe_format(kind)


@pytest.mark.parametrize(("fmt", "kind", "words"), [
    ("webm", "webm", "WebM"), ("mkv", "mkv", "Matroska"), ("avi", "avi", "AVI"),
])
def test_other_video_containers_are_named(folder: Path, fmt: str, kind: str, words: str) -> None:
    path = make_video(folder, fmt=fmt, seconds=1.0, width=64, height=48)  # type: ignore[arg-type]
    assert sniff(path) == kind
    with pytest.raises(MediaError) as caught:
        probe_video(path)
    assert words in caught.value.message
    assert "MP4 or MOV" in caught.value.message
    assert "Convert it to MP4" in caught.value.fix
    assert caught.value.detected == kind


def test_mpeg_ts_is_named(folder: Path) -> None:
    mp4 = make_video(folder, seconds=1.0, width=64, height=48)
    ts = folder / "clip.ts"
    from tests.media import _run

    _run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(mp4), "-c", "copy", "-f", "mpegts",
          str(ts)])
    assert sniff(ts) == "mpeg-ts"
    with pytest.raises(MediaError, match="MPEG-TS"):
        probe_video(ts)


@pytest.mark.parametrize(("fmt", "words"), [("gif", "GIF"), ("webp", "WebP")])
def test_other_images_are_named(folder: Path, fmt: str, words: str) -> None:
    path = make_image(folder, fmt=fmt, width=64, height=64)  # type: ignore[arg-type]
    with pytest.raises(MediaError) as caught:
        probe_image(path)
    assert f"This file is a {words} image" in caught.value.message
    assert "although" not in caught.value.message  # its name is honest
    assert "PNG or JPG" in caught.value.fix


def test_gif_renamed_jpg(folder: Path) -> None:
    with pytest.raises(MediaError) as caught:
        probe_image(make_gif_renamed_jpg(folder))
    assert caught.value.message == "This file is a GIF image, although its name ends in .jpg."
    assert caught.value.fix == "Save it as PNG or JPG."
    assert caught.value.kind == "format"


def test_png_renamed_jpg_is_accepted_by_content(folder: Path) -> None:
    png = make_image(folder, name="really-a-png.jpg")
    assert probe_image(png).format == "png"


def test_picture_given_as_video_and_video_as_picture(folder: Path) -> None:
    with pytest.raises(MediaError, match="PNG image, not a video"):
        probe_video(make_image(folder))
    with pytest.raises(MediaError, match="MP4 video, not a picture"):
        probe_image(make_video(folder))


def test_sound_only_mp4_is_refused(folder: Path) -> None:
    path = folder / "sound.mp4"
    from tests.media import _run

    _run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=duration=1",
          "-c:a", "aac", str(path)])
    with pytest.raises(MediaError, match="no picture, only sound"):
        probe_video(path)


# -------------------------------------------------------------- file access


def test_missing_folder_empty_and_dangling_link(folder: Path, tmp_path: Path) -> None:
    with pytest.raises(MediaError) as caught:
        probe_image(tmp_path / "gone.png")
    assert caught.value.kind == "missing"
    assert "“gone.png” was not found" in caught.value.message

    with pytest.raises(MediaError) as caught:
        probe_video(tmp_path)
    assert caught.value.kind == "folder"
    assert "is a folder" in caught.value.message

    with pytest.raises(MediaError) as caught:
        probe_image(make_empty(tmp_path))
    assert caught.value.kind == "empty"
    assert "empty (0 bytes)" in caught.value.message

    link = tmp_path / "link.png"
    link.symlink_to(tmp_path / "deleted.png")
    with pytest.raises(MediaError) as caught:
        probe_image(link)
    assert caught.value.kind == "missing"
    assert "shortcut (link)" in caught.value.message


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root reads any file whatever its permissions")
def test_unreadable_file(folder: Path, tmp_path: Path) -> None:
    path = make_image(tmp_path)
    path.chmod(0)
    try:
        with pytest.raises(MediaError) as caught:
            probe_image(path)
    finally:
        path.chmod(0o644)
    assert caught.value.kind == "unreadable"
    assert "not allowed to read" in caught.value.message


def test_permission_error_on_open_becomes_a_media_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chmod test cannot run as root; the mapping itself is checked here."""
    path = make_image(tmp_path)

    def refuse(*args: object, **kwargs: object) -> io.FileIO:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(media, "_open_binary", refuse)
    with pytest.raises(MediaError) as caught:
        probe_image(path)
    assert caught.value.kind == "unreadable"
    assert "not allowed to read “" in caught.value.message
    assert "permissions" in caught.value.fix


def test_unicode_and_spaces_in_paths(tmp_path: Path) -> None:
    sub = tmp_path / "мои файлы 文件"
    image = make_image(sub, name="персонаж 角色 pic.png")
    video = make_video(sub, name="моё видео 動き.mov", fmt="mov")
    assert probe_image(image).width == 600
    assert probe_video(video).container == "mov"
    with pytest.raises(MediaError, match=r"“нет такого 文件\.png” was not found"):
        probe_image(sub / "нет такого 文件.png")


# --------------------------------------------------------------- robustness

@pytest.fixture(scope="module")
def real_headers(folder: Path) -> dict[str, bytes]:
    files = {
        "png": make_image(folder, width=320, height=320),
        "jpeg": make_image(folder, fmt="jpeg", width=320, height=320),
        "mp4": make_video(folder, width=160, height=120, layout="faststart"),
        "mov-end": make_video(folder, fmt="mov", width=160, height=120),
        "frag": make_video(folder, width=160, height=120, layout="fragmented"),
    }
    return {key: path.read_bytes() for key, path in files.items()}


def _probe_both(data: bytes) -> None:
    for probe in (probe_image_stream, probe_video_stream):
        error: MediaError | None = None
        try:
            probe(io.BytesIO(data), len(data), Path("fuzz.bin"))
        except MediaError as exc:
            error = exc
        if error is not None:
            assert error.message
            assert error.fix
            assert error.kind in media.ERROR_KINDS


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_only_raise_media_error(data: bytes) -> None:
    _probe_both(data)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"\x00\x00\x00\x18ftypisom",
                        b"\x00\x00\x00\x08moov", b"\x00\x00\x00\x01mdat", b"GIF89a"]),
       st.binary(max_size=1024))
def test_random_bytes_after_real_signatures(prefix: bytes, data: bytes) -> None:
    _probe_both(prefix + data)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_truncated_and_mutated_real_files(real_headers: dict[str, bytes], data: st.DataObject
                                          ) -> None:
    key = data.draw(st.sampled_from(sorted(real_headers)))
    content = bytearray(real_headers[key])
    cut = data.draw(st.integers(0, len(content)))
    content = content[:cut]
    for _ in range(data.draw(st.integers(0, 6))):
        if not content:
            break
        at = data.draw(st.integers(0, min(len(content) - 1, 4096)))
        content[at] = data.draw(st.integers(0, 255))
    _probe_both(bytes(content))


def test_read_error_mid_file_becomes_media_error(folder: Path) -> None:
    class Failing(io.BytesIO):
        def read(self, size: int | None = -1, /) -> bytes:
            raise OSError(5, "Input/output error")

    with pytest.raises(MediaError) as caught:
        probe_video_stream(Failing(b"x" * 100), 100, Path("disk.mp4"))
    assert caught.value.kind == "unreadable"
    assert "Input/output error" in caught.value.message
