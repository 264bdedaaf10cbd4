"""ui/images.py: the window's one picture decoder, bounded in size and memory."""

from __future__ import annotations

import ast
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QImageReader
from pytestqt.qtbot import QtBot

import kling_desktop
from kling_desktop.ui import images
from kling_desktop.ui.images import (
    ALLOCATION_LIMIT_MB,
    Picture,
    configure_image_limits,
    decode_picture,
    load_picture,
)
from kling_desktop.ui.tasks import TaskRunner
from tests.media import make_image, make_large_png, make_text, make_truncated_png

UI = Path(kling_desktop.__file__).parent / "ui"


@pytest.fixture
def tasks() -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    assert runner.shutdown(5000)
    runner.deleteLater()


def fits(picture: Picture, box: QSize) -> bool:
    assert picture.image is not None, picture.error
    return picture.image.width() <= box.width() and picture.image.height() <= box.height()


def with_exif_orientation(jpeg: Path, orientation: int) -> Path:
    """The JPEG with an EXIF APP1 segment saying how to turn it (6: 90° clockwise)."""
    entry = struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0)          # Orientation, SHORT
    tiff = b"MM\x00*" + struct.pack(">I", 8) + struct.pack(">H", 1) + entry + b"\x00" * 4
    body = b"Exif\x00\x00" + tiff
    data = jpeg.read_bytes()
    assert data[:2] == b"\xff\xd8"
    out = jpeg.with_name(f"turned-{jpeg.name}")
    out.write_bytes(data[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + data[2:])
    return out


# ------------------------------------------------------------------ allocation limit


def test_configure_sets_the_allocation_limit_for_the_app() -> None:
    before = QImageReader.allocationLimit()
    try:
        QImageReader.setAllocationLimit(1024)
        configure_image_limits()
        assert QImageReader.allocationLimit() == ALLOCATION_LIMIT_MB == 256
        configure_image_limits(64)
        assert QImageReader.allocationLimit() == 64
    finally:
        QImageReader.setAllocationLimit(before)


# ------------------------------------------------------------------ bounded decoding


def test_a_large_png_comes_back_no_larger_than_asked(tmp_path: Path) -> None:
    png = make_large_png(tmp_path, width=7000, height=5000)   # 35 MP: decodable whole
    box = QSize(320, 320)
    picture = decode_picture(png, box)
    assert picture.ok
    assert fits(picture, box)
    assert picture.image is not None
    assert (picture.image.width(), picture.image.height()) == (320, 228)   # shape kept
    assert picture.source_size == QSize(7000, 5000)
    assert picture.error == ""


def test_a_large_jpeg_is_scaled_while_reading(tmp_path: Path) -> None:
    jpeg = make_image(tmp_path, width=4000, height=3000, fmt="jpeg")
    box = QSize(1280, 1280)
    picture = decode_picture(str(jpeg), box)
    assert fits(picture, box)
    assert picture.image is not None
    assert picture.image.size() == QSize(1280, 960)


def test_a_picture_too_large_to_decode_whole_is_refused_unread(tmp_path: Path) -> None:
    # 8000 × 8000 in ~190 KB; PNG cannot be scaled while reading: 244 MB if decoded.
    png = make_large_png(tmp_path, width=8000, height=8000)
    picture = decode_picture(png, QSize(360, 360))
    assert not picture.ok
    assert picture.image is None
    assert "too large to preview" in picture.error
    assert "8000 × 8000" in picture.error
    assert picture.source_size == QSize(8000, 8000)


def test_a_small_picture_is_not_enlarged(tmp_path: Path) -> None:
    picture = decode_picture(make_image(tmp_path, width=300, height=400), QSize(1280, 1280))
    assert picture.image is not None
    assert picture.image.size() == QSize(300, 400)


def test_crop_fills_the_box_exactly(tmp_path: Path) -> None:
    for width, height in ((600, 800), (900, 400), (40, 30)):
        picture = decode_picture(make_image(tmp_path, width=width, height=height),
                                 QSize(96, 96), crop=True)
        assert picture.image is not None, picture.error
        assert picture.image.size() == QSize(96, 96)


def test_exif_rotation_is_applied_and_the_box_is_for_the_picture_as_shown(
        tmp_path: Path) -> None:
    turned = with_exif_orientation(make_image(tmp_path, width=1200, height=600, fmt="jpeg"), 6)
    picture = decode_picture(turned, QSize(300, 300))
    assert picture.image is not None, picture.error
    assert picture.image.size() == QSize(150, 300)    # upright: tall, inside the box
    assert picture.source_size == QSize(600, 1200)


@pytest.mark.parametrize("make", [
    lambda d: make_text(d, "notes.png"),
    lambda d: make_truncated_png(d),
    lambda d: d / "gone.png",
])
def test_unreadable_files_give_a_failure_value_not_an_exception(
        tmp_path: Path, make: object) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    picture = decode_picture(path, QSize(200, 200))
    assert not picture.ok
    assert picture.image is None
    assert picture.error


def test_an_empty_box_is_a_bug(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        decode_picture(make_image(tmp_path), QSize(0, 10))


# ------------------------------------------------------------------ on the task runner


def test_load_picture_decodes_off_the_main_thread(qtbot: QtBot, tasks: TaskRunner,
                                                  tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[threading.Thread] = []
    real = images.decode_picture

    def spy(*args: object, **kwargs: object) -> Picture:
        threads.append(threading.current_thread())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(images, "decode_picture", spy)
    got: list[tuple[Picture, threading.Thread]] = []
    load_picture(tasks, make_image(tmp_path, width=600, height=800), QSize(120, 120),
                 lambda p: got.append((p, threading.current_thread())))
    qtbot.waitUntil(lambda: bool(got), timeout=10_000)
    picture, delivered_on = got[0]
    assert picture.image is not None
    assert picture.image.size() == QSize(90, 120)
    assert delivered_on is threading.main_thread()
    assert threads
    assert threads[0] is not threading.main_thread()


def test_load_picture_reports_a_failure_through_the_same_callback(
        qtbot: QtBot, tasks: TaskRunner, tmp_path: Path) -> None:
    got: list[Picture] = []
    load_picture(tasks, tmp_path / "missing.jpg", QSize(64, 64), got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=10_000)
    assert not got[0].ok
    assert got[0].error


# ------------------------------------------------------------------ one decoder


def _decoding_sites(path: Path) -> list[str]:
    """Places in a module that read a picture file (or bytes) into an image."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: list[str] = []
    # ``x.load(file)`` decodes only on a QImage / QPixmap: a module that imports
    # neither may have its own ``load()`` methods (settings sections, say).
    has_images = any(isinstance(node, ast.alias) and node.name in ("QImage", "QPixmap")
                     for node in ast.walk(tree))
    shown = path.relative_to(UI.parent) if path.is_relative_to(UI.parent) else path.name
    for node in ast.walk(tree):
        where = f"{shown}:{getattr(node, 'lineno', 0)}"
        named = (node.id if isinstance(node, ast.Name)
                 else node.attr if isinstance(node, ast.Attribute) else "")
        if named == "QImageReader":
            found.append(f"{where} QImageReader")
        elif isinstance(node, ast.alias) and node.name == "QImageReader":
            found.append(f"{where} imports QImageReader")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else (
                func.attr if isinstance(func, ast.Attribute) else "")
            # QImage(path) / QPixmap(path): one argument that is not a size pair.
            if name in ("QImage", "QPixmap") and len(node.args) == 1 and not node.keywords:
                found.append(f"{where} {name}(<file>)")
            elif name in ("loadFromData", "fromData"):
                found.append(f"{where} .{name}()")
            elif (name == "load" and has_images and isinstance(func, ast.Attribute)
                  and not (isinstance(func.value, ast.Name) and func.value.id == "json")):
                found.append(f"{where} .load()")
    return found


def test_only_ui_images_decodes_picture_files() -> None:
    offenders: list[str] = []
    for module in sorted(UI.rglob("*.py")):
        if module == UI / "images.py":
            continue
        offenders.extend(_decoding_sites(module))
    assert offenders == [], (
        "decode pictures through kling_desktop.ui.images (decode_picture / load_picture), "
        "not here:\n  " + "\n  ".join(offenders))


def test_the_one_decoder_is_found_by_the_check() -> None:
    assert any("QImageReader" in site for site in _decoding_sites(UI / "images.py"))


def test_the_check_still_sees_a_pixmap_load(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text("from PySide6.QtGui import QPixmap\n\n"
                      "def f(path):\n    p = QPixmap()\n    p.load(path)\n    return p\n",
                      encoding="utf-8")
    assert _decoding_sites(module) == ["probe.py:5 .load()"]
