"""The jobs list, the library (grid, detail pane, player, compare) and the job actions speak
the user's language: Chinese read as Chinese, and nothing visible escapes translation
(pseudo-language walk). File names and sidecars stay the same in every language
(tests/test_library.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale, QLoggingCategory, Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from kling_desktop.api.models import GenerationOptions, Mode, Model, Orientation
from kling_desktop.engine.jobs import FailureKind, Job, JobSpec, JobState
from kling_desktop.engine.library import Library
from kling_desktop.engine.store import JobStore
from kling_desktop.ui.gallery import GalleryWidget
from kling_desktop.ui.gallery.labels import format_duration, format_moment
from kling_desktop.ui.jobs import JobsPanel
from kling_desktop.ui.jobs.actions import Action, action_label, action_tip
from kling_desktop.ui.jobs.wording import status_text, tooltip_text, when_text
from kling_desktop.ui.tasks import TaskRunner
from kling_desktop.ui.widgets import format_bytes
from tests.media import ffmpeg_available, make_image, make_video
from tests.ui.conftest import QT_LOG_IGNORES
from tests.ui.gallery_support import Made, add_results
from tests.ui.i18n_support import language, untranslated

WAIT_MS = 15_000

pytestmark = [
    pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg makes the test media"),
    pytest.mark.qt_log_ignore(
        *QT_LOG_IGNORES,
        # A headless machine has no sound server: QtMultimedia says so (see test_gallery).
        r"^PulseAudioService: pa_context_connect\(\) failed$",
        r"^No audio device detected$",
    ),
]


@pytest.fixture(autouse=True, scope="module")
def quiet_decoder_notes() -> Iterator[None]:
    QLoggingCategory.setFilterRules("qt.multimedia.ffmpeg*=false")
    yield
    QLoggingCategory.setFilterRules("")


@pytest.fixture
def tasks() -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    assert runner.shutdown(5000), "background work outlived the test"


RESULTS = [
    Made("ballet pirouette", model=Model.V2_6, mode=Mode.STD, orientation=Orientation.IMAGE,
         mark="keeper"),
    Made("robot dance", demo=True, mark="reject"),
]


def _gallery(qtbot: QtBot, tmp_path: Path, library: Library, store: JobStore,
             width: int = 1300, height: int = 820) -> GalleryWidget:
    widget = GalleryWidget(library, store, cache_dir=tmp_path / "cache")
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: widget.syncs_done >= 1, timeout=WAIT_MS)
    return widget


def _panel(qtbot: QtBot, tasks: TaskRunner) -> tuple[JobsPanel, QWidget]:
    host = QWidget()
    layout = QVBoxLayout(host)
    layout.setContentsMargins(0, 0, 0, 0)
    panel = JobsPanel(tasks, host)
    layout.addWidget(panel)
    qtbot.addWidget(host)
    host.resize(520, 700)
    host.show()
    qtbot.waitExposed(host)
    return panel, host


_ids = iter(range(1, 10_000))


def _job(image: Path, clip: Path, state: JobState, **fields: object) -> Job:
    now = time.time()
    spec = JobSpec(image=str(image), video=str(clip),
                   options=GenerationOptions(model=Model.V3, mode=Mode.PRO,
                                             prompt="waves both arms"))
    return Job(id=next(_ids), spec=spec, state=state, base_url="https://api.example.com",
               demo=False, created_at=now, updated_at=now,
               task_id="task-unified-1-abcdefgh", **fields)  # type: ignore[arg-type]


def _user_data(library: Library, store: JobStore) -> set[str]:
    """What the library shows as the user gave it: titles, names, prompts, ids, links."""
    shown: set[str] = set()
    for record in store.list_results():
        shown |= {record.title, Path(record.video_rel).name, record.prompt,
                  record.task_id or "", str(library.root), format_bytes(record.file_size)}
    for entry in library.entries():
        shown |= {str(library.input_path(ref)) for ref in (entry.image, entry.video)}
    return shown


# ---------------------------------------------------------------------------- Chinese


def test_the_library_reads_in_chinese(qtbot: QtBot, tmp_path: Path, library: Library,
                                      store: JobStore, media: Path) -> None:
    previous = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))  # as main does
    try:
        with language("zh_CN"):
            entries = add_results(library, store, media, RESULTS)
            widget = _gallery(qtbot, tmp_path, library, store)
            bar = widget.filter_bar
            assert bar.model_box.itemText(0) == "全部模型"
            assert bar.mode_box.itemText(1) == "标准模式"
            assert bar.mark_box.itemText(1) == "精选"
            assert bar.count_label.text() == "2 条结果"
            assert bar.search.placeholderText() == "搜索标题、图片、视频、提示词…"
            assert widget.select_key(library.relative(entries[0].video_path))
            detail = widget.detail
            assert detail.keeper_button.text() == "★ 精选"
            assert detail.again_button.text() == "再次使用这些设置"
            assert detail.values["mode"].text() == "标准模式 (720p)"
            assert detail.values["orientation"].text() == "与图片一致（视频最长 10 秒）"
            assert detail.values["sound"].text() == "保留原视频声音"
            assert detail.values["length"].text() == "2.0 秒"
            assert "年" in detail.values["saved"].text()        # the locale's long date
            assert "已保留在作品库中" in detail.image_caption.text()
            assert widget.commands.act_keeper.text() == "★ 标为精选"
            # the player and the compare view
            assert detail.player.loop_button.toolTip() == "循环播放（L）"
            assert detail.player.loop_button.accessibleName() == "循环播放"
            assert widget.compare.back_button.text() == "← 返回作品库"
            assert format_duration(75) == "1:15"
            assert format_moment(None) == "—"
            assert widget.shutdown(10_000)
    finally:
        QLocale.setDefault(previous)


def test_the_jobs_list_reads_in_chinese(qtbot: QtBot, tasks: TaskRunner, media: Path) -> None:
    image = make_image(media / "in", name="hero.png")
    clip = make_video(media / "in", seconds=1, name="dance.mp4")
    with language("zh_CN"):
        panel, _host = _panel(qtbot, tasks)
        assert panel.title_label.text() == "任务"
        saved = _job(image, clip, JobState.COMPLETED)
        failed = _job(image, clip, JobState.FAILED, error_kind=FailureKind.BALANCE,
                      error_message="余额不足。")
        panel.set_jobs([saved, failed])
        qtbot.waitUntil(lambda: panel.summary_label.text() == "1 个已保存 · 1 个需要处理",
                        timeout=WAIT_MS)
        assert JobState.FAILED.label == "失败"
        assert status_text(failed).startswith("失败")
        assert when_text(saved, short=True).startswith("今天 ")
        tip = tooltip_text(saved)
        assert "提示词：" not in tip or "waves both arms" in tip
        assert "服务商任务：task-unified-1-abcdefgh" in tip
        assert action_label(Action.TOP_UP) == "充值"
        assert action_tip(Action.RETRY, failed) == "用相同的输入再次发送这个任务。"
        row = panel.model.index(0).data(Qt.ItemDataRole.DisplayRole)
        assert row.startswith("hero — waves both arms：")     # the title stays the user's
        assert panel.shutdown(5000)
    assert JobState.FAILED.label == "Failed"     # English again after the block


# ----------------------------------------------------------------------- pseudo-language


def test_nothing_in_the_library_escapes_translation(
        qtbot: QtBot, tmp_path: Path, library: Library, store: JobStore, media: Path) -> None:
    with language("pseudo"):
        entries = add_results(library, store, media, RESULTS)
        widget = _gallery(qtbot, tmp_path, library, store)
        allowed = _user_data(library, store)
        assert untranslated(widget, allowed=allowed) == []          # grid, nothing selected
        assert widget.select_key(library.relative(entries[1].video_path))
        qtbot.waitUntil(lambda: widget.detail.player.isVisible(), timeout=WAIT_MS)
        assert untranslated(widget, allowed=allowed) == []          # one result in the pane
        # the grid's and the menu's actions are words too
        escaped = [a.text() for a in widget.view.actions() if "⟦" not in a.text()]
        assert escaped == []
        widget.view.selectAll()
        qtbot.waitUntil(lambda: widget.detail.multi.isVisible(), timeout=WAIT_MS)
        assert untranslated(widget, allowed=allowed) == []          # several selected
        widget.view.clearSelection()
        assert widget.select_key(library.relative(entries[0].video_path))
        widget.open_compare()
        qtbot.waitUntil(lambda: widget.compare.isVisible(), timeout=WAIT_MS)
        assert untranslated(widget, allowed=allowed) == []          # side by side
        assert widget.shutdown(10_000)


def test_nothing_in_the_jobs_list_escapes_translation(
        qtbot: QtBot, tasks: TaskRunner, media: Path) -> None:
    image = make_image(media / "in", name="hero.png")
    clip = make_video(media / "in", seconds=1, name="dance.mp4")
    with language("pseudo"):
        panel, host = _panel(qtbot, tasks)
        assert untranslated(host) == []                   # empty: the invitation
        jobs = [_job(image, clip, state) for state in
                (JobState.SUBMITTED, JobState.COMPLETED, JobState.UNCERTAIN)]
        panel.set_jobs(jobs)
        qtbot.waitUntil(lambda: "⟦" in panel.summary_label.text(), timeout=WAIT_MS)
        assert untranslated(host) == []
        for job in jobs:
            for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                text = panel.model.index(jobs.index(job)).data(role)
                assert "⟦" in text, text
        assert panel.shutdown(5000)


# ------------------------------------------------------------------------------- layout


def _overlaps(bar: QWidget) -> list[str]:
    """Visible controls of the filter bar that stick out of it or overlap each other."""
    shown = [w for w in bar.findChildren(QWidget)
             if w.parent() is bar and w.isVisibleTo(bar)]
    found = [f"{w.objectName()} sticks out" for w in shown
             if not bar.rect().contains(w.geometry())]
    for number, first in enumerate(shown):
        for second in shown[number + 1:]:
            if first.geometry().intersects(second.geometry()):
                found.append(f"{first.objectName()} overlaps {second.objectName()}")
    return found


@pytest.mark.parametrize("code", ["en", "zh_CN"])
def test_the_filters_fit_a_small_screen_in_both_languages(
        qtbot: QtBot, tmp_path: Path, library: Library, store: JobStore, media: Path,
        code: str) -> None:
    with language(code):
        add_results(library, store, media, RESULTS[:1])
        widget = _gallery(qtbot, tmp_path, library, store, width=1000, height=660)
        bar = widget.filter_bar
        qtbot.waitUntil(lambda: widget.width() == 1000, timeout=WAIT_MS)
        assert widget.minimumSizeHint().width() <= 1000     # a 1024 px screen holds it
        qtbot.waitUntil(lambda: _overlaps(bar) == [], timeout=WAIT_MS)
        assert bar.search.width() >= 180
        if code == "en":      # the English filters need the row: the search goes above
            assert bar.search_on_own_row()
        widget.resize(1440, 820)
        qtbot.waitUntil(lambda: not bar.search_on_own_row(), timeout=WAIT_MS)
        assert _overlaps(bar) == []
        assert widget.shutdown(10_000)


def test_a_narrow_card_shows_the_time_alone(media: Path) -> None:
    job = _job(make_image(media / "in"), make_video(media / "in", seconds=1),
               JobState.COMPLETED)
    with language("zh_CN"):
        short, shortest = when_text(job, short=True), when_text(job, shortest=True)
    assert short == "今天 " + shortest
    assert shortest
    assert "今天" not in shortest
