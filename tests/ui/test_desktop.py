"""Opening files and links with the desktop's applications, and saying so at once when
nothing can (Linux: the desktop is asked which application handles the type first)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from pytestqt.qtbot import QtBot

from kling_desktop.ui import desktop
from kling_desktop.ui.desktop import DesktopOpener
from tests.ui.conftest import fake_xdg_mime

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="xdg-mime: the Linux desktop's own question")


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What was handed to Qt's own opener (which would start xdg-open)."""
    calls: list[str] = []

    def open_url(url: QUrl) -> bool:
        calls.append(url.toString())
        return True

    monkeypatch.setattr(QDesktopServices, "openUrl", open_url)
    monkeypatch.delenv("FLATPAK_ID", raising=False)
    monkeypatch.delenv("SNAP", raising=False)
    return calls


@pytest.fixture
def clip(tmp_path: Path) -> QUrl:
    path = tmp_path / "dance result.mp4"
    path.write_bytes(b"\0\0\0\x18ftypisom")
    return QUrl.fromLocalFile(str(path))


def test_a_computer_without_a_player_is_told_at_once(
        qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opened: list[str],
        clip: QUrl) -> None:
    fake_xdg_mime(tmp_path / "bin", monkeypatch, 'echo "$@" > "$0.asked"')
    opener = DesktopOpener()
    with qtbot.waitSignal(opener.failed, timeout=5000) as said:
        opener.open(clip)
    assert said.args[0].startswith("No video player on this computer opened "
                                   "“dance result.mp4”.")
    assert opened == []          # not handed to xdg-open, which would fail silently
    asked = (tmp_path / "bin" / "xdg-mime.asked").read_text(encoding="utf-8").split()
    assert asked == ["query", "default", "video/mp4"]


def test_a_computer_with_a_player_opens_the_file(
        qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opened: list[str],
        clip: QUrl) -> None:
    fake_xdg_mime(tmp_path / "bin", monkeypatch, "echo vlc.desktop")
    opener = DesktopOpener()
    failures: list[str] = []
    opener.failed.connect(failures.append)
    opener.open(clip)
    qtbot.waitUntil(lambda: opened == [clip.toString()], timeout=5000)
    assert failures == []


def test_links_ask_for_the_browser(qtbot: QtBot, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch, opened: list[str]) -> None:
    fake_xdg_mime(tmp_path / "bin", monkeypatch, "exit 0")
    opener = DesktopOpener()
    with qtbot.waitSignal(opener.failed, timeout=5000) as said:
        opener.open(QUrl("https://example.com/pricing"))
    assert said.args[0].startswith("No web browser on this computer opened "
                                   "https://example.com/pricing")


@pytest.mark.parametrize("answer", ["missing", "broken", "silent"])
def test_when_the_desktop_cannot_be_asked_qt_opens_it(
        qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opened: list[str],
        clip: QUrl, answer: str) -> None:
    if answer == "missing":
        (tmp_path / "empty").mkdir()
        monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    elif answer == "broken":
        fake_xdg_mime(tmp_path / "bin", monkeypatch, "exit 5")
    else:
        fake_xdg_mime(tmp_path / "bin", monkeypatch, "exec sleep 30")
        monkeypatch.setattr(desktop, "QUERY_TIMEOUT_MS", 300)
    opener = DesktopOpener()
    opener.open(clip)
    qtbot.waitUntil(lambda: opened == [clip.toString()], timeout=5000)


def test_qt_saying_no_is_said_in_words(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch,
                                       tmp_path: Path, clip: QUrl) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda _url: False)
    opener = DesktopOpener()
    with qtbot.waitSignal(opener.failed, timeout=5000) as said:
        opener.open(QUrl.fromLocalFile(str(tmp_path)))
    assert "could not be opened: no file manager answered" in said.args[0]
