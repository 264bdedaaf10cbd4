"""The main window's parts: the start panel, the jobs panel's words and buttons, the
controller's offline backoff, failures and their actions. Real widgets, real engine,
the simulator over loopback."""

from __future__ import annotations

import html
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QSize, Qt, QUrl
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QMessageBox
from pytestqt.qtbot import QtBot

from kling_desktop.api.client import RetryPolicy
from kling_desktop.api.errors import KlingError
from kling_desktop.api.models import GenerationOptions, Mode, Model
from kling_desktop.engine.jobs import BlockedOn, FailureKind, Job, JobSpec, JobState
from kling_desktop.engine.runner import Engine
from kling_desktop.engine.secrets import keyring_status
from kling_desktop.engine.status import remaining_text
from kling_desktop.simulator import Fault, Simulator
from kling_desktop.ui.desktop import cannot_open_text
from kling_desktop.ui.job_controller import OfflineInfo, offline_info
from kling_desktop.ui.jobs import (
    Action,
    RowState,
    actions_for,
    badges_for,
    elapsed_text,
    status_text,
)
from kling_desktop.ui.jobs.actions import menu_actions_for
from kling_desktop.ui.keyboard_help import all_shortcuts, key_text, menu_shortcuts
from kling_desktop.ui.main_window import MainWindow
from kling_desktop.ui.main_window.job_actions import provider_site
from kling_desktop.ui.main_window.window import window_title
from kling_desktop.ui.notifications import Notifier, notification_text
from tests.conftest import TEST_KEY
from tests.media import ffmpeg_available, make_image, make_video
from tests.ui.conftest import QT_LOG_IGNORES, WAIT_MS, WindowFactory, fake_xdg_mime, fast_settings
from tests.ui.gallery_support import Made, add_results

pytestmark = [pytest.mark.qt_log_ignore(*QT_LOG_IGNORES)]
needs_ffmpeg = pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg makes the test media")


def make_job(state: JobState, **fields: object) -> Job:
    now = time.time()
    values: dict[str, object] = {
        "id": 7, "spec": JobSpec(image="/pics/hero.png", video="/clips/dance.mp4",
                                 options=GenerationOptions(model=Model.V3, mode=Mode.PRO),
                                 billable_seconds=5.0),
        "state": state, "base_url": "https://api.example.com", "demo": False,
        "created_at": now - 65, "updated_at": now,
    }
    values.update(fields)
    return Job(**values)  # type: ignore[arg-type]


# -- words and buttons (no widgets) ----------------------------------------------------------

def test_status_in_words() -> None:
    now = time.time()
    assert status_text(make_job(JobState.QUEUED)) == "Waiting"
    assert status_text(make_job(JobState.UPLOADING, transfer_done=42, transfer_total=100)) \
        == "Uploading 42 %"
    assert status_text(make_job(JobState.SUBMITTED, provider_status="pending")) \
        == "Queued at the provider"
    generating = make_job(JobState.SUBMITTED, provider_status="processing", progress=40,
                          submitted_at=now - 5, estimated_time=45)
    assert status_text(generating, now=now) == "Generating 40 % · about 40 s left"
    assert status_text(make_job(JobState.DOWNLOADING, transfer_done=1, transfer_total=4)) \
        == "Downloading 25 %"
    assert status_text(make_job(JobState.COMPLETED)) == "Saved · 5 s video"
    assert status_text(make_job(JobState.FAILED, error_message="No balance.")) \
        == "Failed — No balance."
    assert status_text(make_job(JobState.EXPIRED)) == "Expired"
    assert status_text(make_job(JobState.UNCERTAIN)) == "Needs your decision"
    offline = RowState(offline=OfflineInfo(time.monotonic() + 30, "offline", "unreachable"))
    assert status_text(make_job(JobState.SUBMITTED), offline).startswith(
        "Offline — retrying in ")
    assert remaining_text(make_job(JobState.SUBMITTED, submitted_at=now - 300,
                                   estimated_time=45), now) == "taking longer than estimated"
    assert elapsed_text(make_job(JobState.SUBMITTED, created_at=now - 65), now) == "1:05"


@pytest.mark.parametrize(("kind", "action"), [
    (FailureKind.RETRYABLE, Action.RETRY),
    (FailureKind.AUTH, Action.OPEN_SETTINGS),
    (FailureKind.BALANCE, Action.TOP_UP),
    (FailureKind.CONTENT_POLICY, Action.CHOOSE_INPUTS),
    (FailureKind.UPLOAD_REFUSED, Action.USE_LINK),
])
def test_a_suggested_action_per_failure(kind: FailureKind, action: str) -> None:
    assert actions_for(make_job(JobState.FAILED, error_kind=kind))[0] == action


def test_actions_for_other_states() -> None:
    assert actions_for(make_job(JobState.UNCERTAIN)) == [Action.SEND_AGAIN]
    assert actions_for(make_job(JobState.COMPLETED)) == [Action.PLAY, Action.SHOW_IN_FOLDER]
    assert actions_for(make_job(JobState.SUBMITTED)) == [Action.CANCEL]
    offline = RowState(offline=OfflineInfo(time.monotonic() + 30, "offline", "x"))
    assert actions_for(make_job(JobState.SUBMITTED), offline) == [Action.TRY_NOW, Action.CANCEL]
    assert badges_for(make_job(JobState.QUEUED, demo=True))[0] == "Demo"


def test_a_job_waiting_for_the_network_is_shown_offline_until_its_next_try() -> None:
    job = make_job(JobState.SUBMITTED, blocked_on=BlockedOn.NETWORK,
                   next_poll_at=time.time() + 30, error_message="unreachable")
    info = offline_info(job)
    assert info is not None
    assert 28 <= info.seconds_left() <= 30
    assert info.message == "unreachable"
    assert offline_info(make_job(JobState.SUBMITTED)) is None
    assert offline_info(make_job(JobState.FAILED, blocked_on=BlockedOn.NETWORK)) is None
    key = make_job(JobState.SUBMITTED, blocked_on=BlockedOn.KEY,
                   error_message="This job needs the API key for api.example.com.")
    assert status_text(key) == "Needs the API key"
    assert actions_for(key)[0] == Action.OPEN_SETTINGS


def test_provider_site_and_notifications() -> None:
    assert provider_site("https://api.foxapi.cc") == "https://foxapi.cc"
    assert provider_site("https://video.example.org/v1") == "https://video.example.org"
    assert provider_site("http://127.0.0.1:8123") is None
    title, _body, bad = notification_text(make_job(JobState.COMPLETED))
    assert title == "Video saved"
    assert not bad
    assert notification_text(make_job(JobState.FAILED, error_message="Refused."))[1] \
        == "Refused."


# -- the start panel ----------------------------------------------------------------------------

def test_start_panel_without_a_key(qtbot: QtBot, windows: WindowFactory) -> None:
    window = windows.window(Engine(settings=fast_settings()))
    qtbot.waitUntil(window.is_start_panel_shown, timeout=WAIT_MS)
    panel = window.start_panel
    assert panel.demo_button.isVisible()
    with qtbot.waitSignal(panel.demo_requested, timeout=1000):
        QTest.mouseClick(panel.demo_button, Qt.MouseButton.LeftButton)

    QTest.keyClicks(panel.key_edit, "sk-pasted-0123456789")
    if keyring_status().ok:
        # A real keyring (tests/run.sh starts a throwaway one): the key is kept there.
        with qtbot.waitSignal(panel.key_ready, timeout=WAIT_MS):
            QTest.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    else:
        # No keyring that keeps secrets: the panel says so with the fix, and offers the
        # key for this session only (in memory).
        QTest.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: panel.key_edit.isEnabled() and "password store" in panel.message(),
                        timeout=WAIT_MS)
        assert panel.session_button.isVisible()
        status = keyring_status()
        assert status.fix
        assert status.fix in panel.message()
        with qtbot.waitSignal(panel.key_ready, timeout=WAIT_MS):
            QTest.mouseClick(panel.session_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.is_start_panel_shown(), timeout=WAIT_MS)
    window.engine.require_key()   # no NoApiKeyError any more


def test_a_bad_provider_address_is_told_after_the_window_opens(
        qtbot: QtBot, windows: WindowFactory) -> None:
    # The window starts without checking the address (its parser, httpx, waits until after
    # the first paint): a plain-http address elsewhere than this computer opens the window
    # on the start panel, then says why the address cannot be used.
    engine = Engine(settings=fast_settings(base_url="http://video.example.org"),
                    check_address=False)
    assert engine.address == "http://video.example.org"
    window = windows.window(engine)

    def told() -> QMessageBox | None:
        for box in window.findChildren(QMessageBox):
            if box.isVisible() and box.windowTitle() == "The provider address cannot be used":
                return box
        return None

    qtbot.waitUntil(lambda: told() is not None, timeout=WAIT_MS)
    assert window.is_start_panel_shown()
    box = told()
    assert box is not None
    assert "https" in (box.text() + box.informativeText()).lower()
    box.accept()
    assert window.start_panel.provider_text() == "Paste your API key for video.example.org"


def test_window_fits_1280x800_and_is_labelled(qtbot: QtBot, windows: WindowFactory,
                                             sim: Simulator) -> None:
    window = windows.window(windows.engine(sim, key=TEST_KEY))
    assert window.minimumSize().boundedTo(QSize(1280, 800)) == window.minimumSize()
    assert window.minimumSizeHint().width() <= 1280
    assert window.minimumSizeHint().height() <= 800
    assert window.banner is None
    assert window.jobs_panel.view.accessibleName() == "Jobs"
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus == ["File", "View", "Help"]
    assert window.menus.settings_action.shortcut().toString()
    qtbot.waitUntil(lambda: window.jobs_panel.stack.currentWidget()
                    is window.jobs_panel.empty_label, timeout=WAIT_MS)
    assert not Notifier.available() or QApplication.platformName() != "offscreen"
    assert window.notifier.notify_job(make_job(JobState.COMPLETED), window) is False


# -- jobs that go wrong -------------------------------------------------------------------------

@pytest.fixture
def inputs(media: Path) -> tuple[str, str]:
    if not ffmpeg_available():
        pytest.skip("ffmpeg makes the test media")
    return str(make_image(media)), str(make_video(media, seconds=4))


def start_job(window: MainWindow, qtbot: QtBot, inputs: tuple[str, str]) -> int:
    window.form.set_inputs([inputs[0]], [inputs[1]])
    qtbot.waitUntil(window.form.generate_button.isEnabled, timeout=WAIT_MS)
    with qtbot.waitSignal(window.controller.submitted, timeout=WAIT_MS) as submitted:
        QTest.mouseClick(window.form.generate_button, Qt.MouseButton.LeftButton)
    return int(submitted.args[0][0].id)


def wait_for(window: MainWindow, qtbot: QtBot, job_id: int,
             check: Callable[[Job], bool]) -> Job:
    def ok() -> bool:
        job = window.jobs_panel.job(job_id)
        return job is not None and check(job)

    qtbot.waitUntil(ok, timeout=WAIT_MS)
    job = window.jobs_panel.job(job_id)
    assert job is not None
    return job


def click_row_button(window: MainWindow, qtbot: QtBot, job_id: int, action: str) -> None:
    """Click the painted button of a row, as the artist would."""
    qtbot.waitUntil(lambda: window.jobs_panel.button_center(job_id, action) is not None,
                    timeout=WAIT_MS)
    centre = window.jobs_panel.button_center(job_id, action)
    assert centre is not None
    QTest.mouseClick(window.jobs_panel.view.viewport(), Qt.MouseButton.LeftButton, pos=centre)


def test_provider_unreachable_waits_then_try_now(
        qtbot: QtBot, windows: WindowFactory, sim: Simulator, inputs: tuple[str, str]) -> None:
    engine = Engine(api_key=TEST_KEY, base_url=sim.base_url, settings=fast_settings(),
                    retry=RetryPolicy(max_attempts=1, base_delay=0.01, max_delay=0.01,
                                      jitter=0.0))
    sim.config.polls_until_done = 10_000
    window = windows.window(engine)
    job_id = start_job(window, qtbot, inputs)
    wait_for(window, qtbot, job_id, lambda j: j.state is JobState.SUBMITTED)

    sim.inject("task", Fault.unavailable(), times=1000)
    with qtbot.waitSignal(window.controller.job_offline, timeout=WAIT_MS) as offline:
        pass
    info = offline.args[1]
    assert isinstance(info, OfflineInfo)
    assert 25 <= info.seconds_left() <= 30
    assert "retrying in" in window.jobs_panel.status_of(job_id)
    assert window.jobs_panel.actions_of(job_id) == [Action.TRY_NOW, Action.CANCEL]
    assert window.controller.active_count() == 1   # still ours: kept on quit

    sim.clear_faults()
    sim.config.polls_until_done = 1
    click_row_button(window, qtbot, job_id, Action.TRY_NOW)
    wait_for(window, qtbot, job_id, lambda j: j.state is JobState.COMPLETED)
    assert "retrying" not in window.jobs_panel.status_of(job_id)
    assert sim.count("create") == 1


def test_content_policy_failure_offers_other_inputs(
        qtbot: QtBot, windows: WindowFactory, sim: Simulator, inputs: tuple[str, str]) -> None:
    window = windows.window(windows.engine(sim, key=TEST_KEY))
    sim.fail_next_task(code="content_policy_violation",
                       message="The picture was refused by the content policy.")
    job_id = start_job(window, qtbot, inputs)
    job = wait_for(window, qtbot, job_id, lambda j: j.state.is_terminal)
    assert job.state is JobState.FAILED
    assert "content policy" in window.jobs_panel.status_of(job_id)
    window.form.set_inputs([], [])
    click_row_button(window, qtbot, job_id, window.jobs_panel.actions_of(job_id)[0])
    assert window.form.images() == [inputs[0]]


def test_balance_failure_offers_top_up(qtbot: QtBot, windows: WindowFactory, sim: Simulator,
                                       inputs: tuple[str, str],
                                       monkeypatch: pytest.MonkeyPatch,
                                       answer_box: Callable[[str], None]) -> None:
    window = windows.window(windows.engine(sim, key=TEST_KEY))
    sim.inject("create", Fault.no_balance())
    job_id = start_job(window, qtbot, inputs)
    # Nothing was created: the job waits for credit instead of failing, and goes on after.
    job = wait_for(window, qtbot, job_id, lambda j: j.state is JobState.SEND_WAIT
                   and j.blocked_on is BlockedOn.BALANCE)
    assert job.error_kind is FailureKind.BALANCE
    assert window.jobs_panel.actions_of(job_id)[0] == Action.TOP_UP
    assert window.jobs_panel.status_of(job_id) == "Needs credit at the provider"
    opened: list[QUrl] = []
    def fake_open(url: QUrl) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr(window, "open_url", fake_open)
    # The simulator lives on this computer: there is no site, the app explains instead.
    answer_box("OK")
    click_row_button(window, qtbot, job_id, Action.TOP_UP)
    assert opened == []
    window.top_up(job.__class__(**{**job.__dict__, "base_url": "https://api.foxapi.cc"}))
    assert [u.toString() for u in opened] == ["https://foxapi.cc"]
    click_row_button(window, qtbot, job_id, Action.TRY_NOW)    # topped up: carry on
    wait_for(window, qtbot, job_id, lambda j: j.state is JobState.COMPLETED)
    assert sim.count("create", status=200) == 1


def test_uncertain_job_is_sent_again_only_after_confirming(
        qtbot: QtBot, windows: WindowFactory, sim: Simulator, inputs: tuple[str, str],
        answer_box: Callable[[str], None]) -> None:
    window = windows.window(windows.engine(sim, key=TEST_KEY))
    sim.inject("create", Fault(500, accept_anyway=True))
    job_id = start_job(window, qtbot, inputs)
    wait_for(window, qtbot, job_id, lambda j: j.state is JobState.UNCERTAIN)
    assert window.jobs_panel.status_of(job_id) == "Needs your decision"
    assert sim.count("create") == 1

    answer_box("Don't send")
    click_row_button(window, qtbot, job_id, Action.SEND_AGAIN)
    job = window.jobs_panel.job(job_id)
    assert job is not None
    assert job.state is JobState.UNCERTAIN

    answer_box("sendAgainButton")
    click_row_button(window, qtbot, job_id, Action.SEND_AGAIN)
    wait_for(window, qtbot, job_id, lambda j: j.state is JobState.COMPLETED)
    assert sim.count("create") == 2


def test_errors_carry_words(qtbot: QtBot, windows: WindowFactory, sim: Simulator) -> None:
    window = windows.window(windows.engine(sim, key=TEST_KEY))
    job = make_job(JobState.SUBMITTED)
    window.jobs_panel.update_job(job)
    window.controller.job_failed.emit(job.id, KlingError("The job list is busy.", fix="Wait."))
    assert window.jobs_panel.status_of(job.id) == "Stopped — The job list is busy."
    assert window.jobs_panel.actions_of(job.id) == [Action.RETRY, Action.CANCEL]


# -- play stays in the app ------------------------------------------------------------------------

def test_a_saved_job_plays_here_and_opens_elsewhere_only_from_its_menu() -> None:
    saved = make_job(JobState.COMPLETED, output_path="/library/hero.mp4")
    assert actions_for(saved)[0] == Action.PLAY
    menu = menu_actions_for(saved)
    assert menu.index(Action.OPEN_EXTERNALLY) == menu.index(Action.PLAY) + 1
    gone = RowState(gone=True)
    assert actions_for(saved, gone) == [Action.REUSE]          # nothing to play any more
    assert Action.OPEN_EXTERNALLY not in menu_actions_for(saved, gone)
    assert status_text(saved, gone) == "Moved to the trash"
    assert status_text(saved) != "Moved to the trash"


def test_no_player_is_said_in_plain_words() -> None:
    text = cannot_open_text(QUrl.fromLocalFile("/home/me/Videos/hero — dance.mp4"))
    assert "file:" not in text
    assert "“hero — dance.mp4”" in text
    assert "Library" in text
    assert "file:" not in cannot_open_text(QUrl.fromLocalFile("/home/me/Videos/"))


@needs_ffmpeg
@pytest.mark.qt_log_ignore(r"^PulseAudioService: pa_context_connect\(\) failed$",
                           r"^No audio device detected$",
                           r"^This plugin does not support raise\(\)$")   # offscreen only
def test_play_and_enter_open_the_result_in_the_library_player(
        qtbot: QtBot, windows: WindowFactory, sim: Simulator, media: Path) -> None:
    engine = windows.engine(sim, key=TEST_KEY)
    (entry,) = add_results(engine.library, engine.store, media, [Made("a slow bow")])
    assert entry.job_id is not None
    job = engine.store.transition(entry.job_id, JobState.COMPLETED,
                                  output_path=str(entry.video_path))
    window = windows.window(engine)
    panel = window.jobs_panel
    qtbot.waitUntil(lambda: job.id in panel.job_ids(), timeout=WAIT_MS)
    opened: list[QUrl] = []

    def open_url(url: QUrl) -> bool:
        opened.append(url)
        return True

    window.open_url = open_url  # type: ignore[method-assign]

    row = panel.model.row_of(job.id)
    assert row is not None
    panel.view.setFocus()
    panel.view.setCurrentIndex(panel.model.index(row))
    QTest.keyClick(panel.view, Qt.Key.Key_Return)             # Enter: the row's Play
    assert window.tabs.currentWidget() is window.library_page
    gallery = window.gallery
    assert gallery is not None
    key = engine.library.relative(entry.video_path)
    assert [t.key for t in gallery.detail.targets()] == [key]
    qtbot.waitUntil(gallery.detail.player.is_playing, timeout=WAIT_MS)
    assert opened == []                                       # the system player stayed shut

    # a filter hiding it is cleared; the context menu's second way opens the system player
    gallery.detail.player.pause()
    gallery.filter_bar.search.setText("nothing like this")
    gallery.filter_bar.emit_query()
    window.tabs.setCurrentWidget(window.pages)
    panel.trigger(job.id, Action.PLAY)
    assert [t.key for t in gallery.detail.targets()] == [key]
    panel.trigger(job.id, Action.OPEN_EXTERNALLY)
    assert opened == [QUrl.fromLocalFile(str(entry.video_path))]


@needs_ffmpeg
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xdg-mime: Linux's question")
def test_open_in_the_system_player_without_one_says_so_at_once(
        qtbot: QtBot, windows: WindowFactory, sim: Simulator, media: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    engine = windows.engine(sim, key=TEST_KEY)
    (entry,) = add_results(engine.library, engine.store, media, [Made("a slow bow")])
    assert entry.job_id is not None
    job = engine.store.transition(entry.job_id, JobState.COMPLETED,
                                  output_path=str(entry.video_path))
    window = windows.window(engine)
    qtbot.waitUntil(lambda: job.id in window.jobs_panel.job_ids(), timeout=WAIT_MS)
    fake_xdg_mime(tmp_path / "tools", monkeypatch, "exit 0")     # no player
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning",
                        lambda _parent, title, text: told.append(f"{title}: {text}"))
    window.jobs_panel.trigger(job.id, Action.OPEN_EXTERNALLY)
    assert window.statusBar().currentMessage() == f"Opening “{entry.video_path.name}”…"
    qtbot.waitUntil(lambda: told != [], timeout=5000)
    assert told == [f"Could not open: No video player on this computer opened "
                    f"“{entry.video_path.name}”.\n\nPlay it in the app instead (the Library "
                    f"tab), or install a video player and make it the one for MP4 files."]


@needs_ffmpeg
def test_a_result_moved_to_the_trash_no_longer_offers_play(
        qtbot: QtBot, windows: WindowFactory, sim: Simulator, media: Path) -> None:
    engine = windows.engine(sim, key=TEST_KEY)
    (entry,) = add_results(engine.library, engine.store, media, [Made("a slow bow")])
    assert entry.job_id is not None
    job = engine.store.transition(entry.job_id, JobState.COMPLETED,
                                  output_path=str(entry.video_path))
    window = windows.window(engine)
    panel = window.jobs_panel
    qtbot.waitUntil(lambda: panel.actions_of(job.id) == [Action.PLAY, Action.SHOW_IN_FOLDER],
                    timeout=WAIT_MS)
    def trash(path: Path) -> bool:
        path.unlink()
        return True

    engine.library.delete_result(entry, trash)
    window.tabs.setCurrentWidget(window.library_page)         # where results are trashed
    window.tabs.setCurrentWidget(window.pages)                # back: the panel looks again
    qtbot.waitUntil(lambda: panel.status_of(job.id) == "Moved to the trash", timeout=WAIT_MS)
    assert panel.actions_of(job.id) == [Action.REUSE]


# -- keyboard help ------------------------------------------------------------------------------

def test_f1_opens_the_keyboard_shortcuts_not_about(qtbot: QtBot, windows: WindowFactory) -> None:
    window = windows.window(windows.engine(), has_key=True)
    assert QKeySequence("F1") in window.menus.shortcuts_action.shortcuts()
    assert not window.menus.about_action.shortcuts()            # About stays in the Help menu
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
    QTest.keyClick(window, Qt.Key.Key_F1)
    def shown() -> QDialog | None:
        dialog = window.findChild(QDialog, "shortcutsDialog")
        return dialog if isinstance(dialog, QDialog) and dialog.isVisible() else None

    qtbot.waitUntil(lambda: shown() is not None, timeout=WAIT_MS)
    assert window.findChild(QMessageBox, "aboutBox") is None
    dialog = shown()
    assert dialog is not None
    label = dialog.findChild(QLabel, "shortcutsText")
    assert isinstance(label, QLabel)
    text = label.text()
    listed = dict((what, keys) for keys, what in all_shortcuts(
        menu_shortcuts(window.menus.actions())))
    # Every menu command with keys, the form's Generate and the places' own keys.
    for command in ("Settings", "Quit", "Keyboard shortcuts", "Jobs list"):
        assert command in listed
    assert listed["Generate (from anywhere in the Create tab)"] == key_text("Ctrl+Return")
    for keys, what in all_shortcuts(menu_shortcuts(window.menus.actions())):
        assert html.escape(what) in text
        assert html.escape(keys) in text
    dialog.reject()


def test_the_title_names_the_app_once(qtbot: QtBot, windows: WindowFactory) -> None:
    # Qt appends the application's display name to any other title (" — Kling Motion
    # Studio"), so the window never writes the name next to something else.
    window = windows.window(windows.engine(), has_key=True)
    assert window.windowTitle() == "Kling Motion Studio"
    window.on_controller_active_count_changed(2)
    assert window.windowTitle() == "2 running"
    window.on_controller_active_count_changed(0)
    assert window.windowTitle() == "Kling Motion Studio"
    assert window_title(demo=True, running=0) == "Demo"
    assert window_title(demo=True, running=3) == "Demo · 3 running"


def test_a_shut_down_window_no_longer_reacts_to_its_tabs(
        qtbot: QtBot, windows: WindowFactory) -> None:
    # Teardown deletes the tabs' pages, which changes the current tab: a slot of a window
    # being destroyed ran then ("'MainWindow' object has no attribute 'tabs'", a crash).
    window = windows.window(windows.engine())
    assert window.shutdown(10_000)
    window.tabs.setCurrentWidget(window.library_page)
    assert window.gallery is None            # the slot that builds it did not run


def test_converted_inputs_no_job_needs_go_after_a_month(
        qtbot: QtBot, windows: WindowFactory, sim: Simulator) -> None:
    from kling_desktop.engine.library import converted_dir

    engine = windows.engine(sim, key=TEST_KEY)
    folder = converted_dir(engine.library.root)
    folder.mkdir(parents=True)
    old, new = folder / "dance 0-10s.mp4", folder / "dance 2-9.5s.mp4"
    for path, days in ((old, 40), (new, 2)):
        path.write_bytes(b"converted")
        os.utime(path, (time.time() - days * 86400,) * 2)
    windows.window(engine)
    qtbot.waitUntil(lambda: not old.exists(), timeout=WAIT_MS)     # after the first paint
    assert new.exists()
