"""The main window: the form on the left, the jobs on the right.

The window wires the pieces and makes the user's decisions (confirm before
spending, what to do with running jobs on quit, what a job's button does); the
form checks inputs, the panel shows jobs, the controller runs them. Window
state (geometry, splitter) is kept in a small INI file in the data folder; the
user's settings stay in the engine's settings file; the key is in neither.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QObject,
    QProcess,
    QSettings,
    QSize,
    Qt,
    QTimer,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QFont,
    QGuiApplication,
    QIcon,
    QKeySequence,
    QPalette,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kling_desktop import APP_NAME
from kling_desktop.api import errors as api_errors
from kling_desktop.api.models import Mode, Model, Orientation
from kling_desktop.engine.batch import BatchReport, JobOptions
from kling_desktop.engine.jobs import Job, JobState
from kling_desktop.engine.library import LibraryEntry
from kling_desktop.engine.runner import Engine, NoApiKeyError
from kling_desktop.engine.service import PlanRefusedError
from kling_desktop.engine.settings import Settings, save_settings
from kling_desktop.ui.about import show_about
from kling_desktop.ui.confirm import confirm_generation
from kling_desktop.ui.demo import DEMO_BANNER, DemoSession
from kling_desktop.ui.generate_form import GenerateForm
from kling_desktop.ui.job_controller import JobController
from kling_desktop.ui.jobs_panel import Action, JobsPanel
from kling_desktop.ui.notifications import Notifier
from kling_desktop.ui.settings_dialog import SettingsDialog
from kling_desktop.ui.start_panel import StartPanel
from kling_desktop.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from kling_desktop.ui.gallery import GalleryWidget

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT_MS = 8000
GALLERY_SHUTDOWN_MS = 3000
WINDOW_STATE_FILE = "window-state.ini"
DEFAULT_SIZE = QSize(1280, 800)
MINIMUM_SIZE = QSize(1024, 660)
# The jobs list's share of the window until the user drags the divider: a third of the
# width, within these bounds (the form, with its two previews, gets the rest).
JOBS_WIDTH_SHARE = 0.34
JOBS_WIDTH_MIN = 380
JOBS_WIDTH_MAX = 440


def default_jobs_width(total: int) -> int:
    """The jobs panel's width in a splitter ``total`` pixels wide, before the user chose one."""
    return max(JOBS_WIDTH_MIN, min(JOBS_WIDTH_MAX, round(total * JOBS_WIDTH_SHARE)))


class QuitChoice:
    KEEP = "keep"
    STOP = "stop"
    STAY = "stay"


def provider_site(base_url: str) -> str | None:
    """The provider's website for a base URL (``https://api.x.com`` -> ``https://x.com``).

    None for loopback addresses (the demo and tests have no website).
    """
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if not host or host == "localhost":
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    if host.startswith("api.") and host.count(".") >= 2:
        host = host[4:]
    return f"https://{host}"


def apply_settings(engine: Engine, settings: Settings) -> None:
    """Point a running engine at newly saved settings (address, library, pacing)."""
    if engine.demo:  # the demo keeps its own quick pacing and never asks to confirm
        keep = engine.settings
        settings = dataclasses.replace(
            settings, poll_min_interval=keep.poll_min_interval,
            poll_max_interval=keep.poll_max_interval, confirm_before_generate=False)
    engine.apply_settings(settings)


def _shortcuts(standard: QKeySequence.StandardKey, fallback: str) -> list[QKeySequence]:
    """The platform's keys for ``standard`` (some platforms have none), then ``fallback``."""
    keys = [k for k in QKeySequence.keyBindings(standard) if not k.isEmpty()]
    extra = QKeySequence(fallback)
    if all(k != extra for k in keys):
        keys.append(extra)
    return keys


class DemoBanner(QFrame):
    """A clear strip across the top of the window while the demo runs."""

    leave_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("demoBanner")
        self.setAutoFillBackground(True)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, palette.color(QPalette.ColorRole.Highlight))
        palette.setColor(QPalette.ColorRole.WindowText,
                         palette.color(QPalette.ColorRole.HighlightedText))
        self.setPalette(palette)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 8, 12, 8)
        layout.setSpacing(12)
        self.label = QLabel(DEMO_BANNER, self)
        font = self.label.font()
        font.setWeight(QFont.Weight.DemiBold)
        self.label.setFont(font)
        self.label.setAccessibleName(DEMO_BANNER)
        layout.addWidget(self.label)
        detail = QLabel("Videos are made by the built-in simulator from the sample clip.", self)
        layout.addWidget(detail, 1)
        self.leave_button = QPushButton("Use my API key…", self)
        self.leave_button.setObjectName("leaveDemo")
        self.leave_button.setToolTip("Leave the demo and work with your provider.")
        self.leave_button.clicked.connect(self.leave_requested)
        layout.addWidget(self.leave_button)

    def text(self) -> str:
        return self.label.text()


class MainWindow(QMainWindow):
    """The window. ``closed`` after it was closed and its workers were shut down.

    ``demo_requested`` / ``leave_demo_requested``: the user wants to switch modes
    (the application builds the other kind of window).
    """

    closed = Signal()
    demo_requested = Signal()
    leave_demo_requested = Signal()

    def __init__(self, engine: Engine, *, demo_session: DemoSession | None = None,
                 tasks: TaskRunner | None = None, has_key: bool | None = None,
                 icon: QIcon | None = None, user_settings: Settings | None = None) -> None:
        super().__init__()
        self.engine = engine
        self.demo_session = demo_session
        self.demo = engine.demo
        self._owns_tasks = tasks is None
        self.tasks = tasks if tasks is not None else TaskRunner(self)
        self.icon = icon if icon is not None else QGuiApplication.windowIcon()
        # The settings as in the file (the demo engine runs on a paced copy).
        self.user_settings = user_settings if user_settings is not None else engine.settings
        self._closing_done = False
        self._workers_clean = True
        self._started = False
        self._settings_dialog: SettingsDialog | None = None

        self.setObjectName("mainWindow")
        self.setWindowTitle(f"{APP_NAME} — Demo" if self.demo else APP_NAME)
        if not self.icon.isNull():
            self.setWindowIcon(self.icon)
        self.setMinimumSize(MINIMUM_SIZE)

        self.controller = JobController(engine, self.tasks, self)
        self.notifier = Notifier(self.icon, self)
        self._build()
        self._build_menus()
        self._connect()
        self._restore_window_state()
        self._start(has_key)
        moved = engine.store.moved_aside_message
        if moved:
            QTimer.singleShot(0, lambda: self._error_box(
                "A new job list was started", api_errors.KlingError(moved, fix="")))

    # -- construction --------------------------------------------------------------------------

    def _build(self) -> None:
        central = QWidget(self)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)

        self.banner: DemoBanner | None = None
        if self.demo:
            self.banner = DemoBanner(central)
            self.banner.leave_requested.connect(self.on_banner_leave_requested)
            outer.addWidget(self.banner)

        self.pages = QStackedWidget(central)
        self.start_panel = StartPanel(self.tasks, self.icon, self.pages,
                                      base_url=None if self.demo else self.engine.base_url)
        self.form = GenerateForm(self.tasks, self.user_settings, self.pages)
        self.form.setAccessibleName("New video")
        self.jobs_panel = JobsPanel(self.tasks, self.pages)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self.pages)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.form)
        self.splitter.addWidget(self.jobs_panel)
        # A larger window grows the form (its previews); the jobs list keeps its width.
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        # Until the user drags the divider (or one they dragged is restored), the jobs list
        # takes default_jobs_width() of whatever width the window has.
        self._splitter_auto = True
        self.splitter.splitterMoved.connect(self.on_splitter_splitterMoved)
        self.splitter.installEventFilter(self)
        self._fit_splitter()

        self.pages.addWidget(self.splitter)
        self.pages.addWidget(self.start_panel)

        # "Create" holds the start panel or the form + jobs; "Library" the saved results,
        # which open offline and without a key. The gallery is built on first show.
        self.tabs = QTabWidget(central)
        self.tabs.setObjectName("mainTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.pages, "Create")
        self.library_page = QWidget(self.tabs)
        QVBoxLayout(self.library_page).setContentsMargins(0, 0, 0, 0)
        self.tabs.addTab(self.library_page, "Library")
        self.tabs.setTabToolTip(0, "Make new videos and follow their progress")
        self.tabs.setTabToolTip(1, "Review, play and compare every saved result (works offline)")
        self.gallery: GalleryWidget | None = None
        self.tabs.currentChanged.connect(self.on_tabs_currentChanged)
        outer.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.statusBar().setSizeGripEnabled(True)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.settings_action = QAction("&Settings…", self)
        self.settings_action.setShortcuts(
            _shortcuts(QKeySequence.StandardKey.Preferences, "Ctrl+,"))
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.settings_action.triggered.connect(self.open_settings)
        file_menu.addAction(self.settings_action)
        self.library_action = QAction("Open &library folder", self)
        self.library_action.setShortcut(QKeySequence("Ctrl+L"))
        self.library_action.triggered.connect(self.open_library_folder)
        file_menu.addAction(self.library_action)
        file_menu.addSeparator()
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcuts(_shortcuts(QKeySequence.StandardKey.Quit, "Ctrl+Q"))
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.quit_action)

        view_menu = self.menuBar().addMenu("&View")
        self.form_focus_action = QAction("New &video form", self)
        self.form_focus_action.setShortcut(QKeySequence("Ctrl+1"))
        self.form_focus_action.triggered.connect(self.focus_form)
        view_menu.addAction(self.form_focus_action)
        self.jobs_focus_action = QAction("&Jobs list", self)
        self.jobs_focus_action.setShortcut(QKeySequence("Ctrl+2"))
        self.jobs_focus_action.triggered.connect(self.focus_jobs)
        view_menu.addAction(self.jobs_focus_action)
        self.gallery_action = QAction("&Library of results", self)
        self.gallery_action.setShortcut(QKeySequence("Ctrl+3"))
        self.gallery_action.triggered.connect(self.show_gallery)
        view_menu.addAction(self.gallery_action)

        help_menu = self.menuBar().addMenu("&Help")
        self.about_action = QAction(f"&About {APP_NAME}", self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))
        self.about_action.triggered.connect(self.show_about)
        help_menu.addAction(self.about_action)
        self.log_action = QAction("Open &log folder", self)
        self.log_action.triggered.connect(self.open_log_folder)
        help_menu.addAction(self.log_action)

    def _connect(self) -> None:
        c = self.controller
        c.jobs_loaded.connect(self.on_controller_jobs_loaded)
        c.load_failed.connect(self.on_controller_load_failed)
        c.jobs_updated.connect(self.jobs_panel.update_jobs)
        c.job_finished.connect(self.on_controller_job_finished)
        c.job_failed.connect(self.on_controller_job_failed)
        c.job_offline.connect(self.jobs_panel.set_offline)
        c.job_online.connect(self.jobs_panel.clear_offline)
        c.job_note.connect(self.jobs_panel.set_service_note)
        c.submitted.connect(self.on_controller_submitted)
        c.submit_failed.connect(self.on_controller_submit_failed)
        c.active_count_changed.connect(self.on_controller_active_count_changed)
        self.form.generate_requested.connect(self.on_form_generate_requested)
        self.jobs_panel.action_triggered.connect(self.on_jobs_panel_action_triggered)
        self.start_panel.key_ready.connect(self.on_start_panel_key_ready)
        self.start_panel.demo_requested.connect(self.demo_requested)

    def _start(self, has_key: bool | None) -> None:
        if self.demo:
            images, videos = DemoSession.sample_inputs()
            self.form.set_inputs(images, videos)
            self._show_main(resume=True)
        elif has_key is True:
            self._show_main(resume=True)
        elif has_key is False:
            self._show_start()
        else:
            self.tasks.run(self.engine.require_key, on_done=lambda _r: self._show_main(True),
                           on_failed=self._on_key_check_failed)

    def _on_key_check_failed(self, error: BaseException) -> None:
        if isinstance(error, NoApiKeyError):
            self._show_start()
        else:
            self._show_main(resume=True)

    def _show_main(self, resume: bool) -> None:
        self.pages.setCurrentWidget(self.splitter)
        if not self._started:
            self._started = True
            self.controller.load_jobs(resume=resume)
        elif resume:
            self.controller.resume_all()

    def _show_start(self) -> None:
        self.pages.setCurrentWidget(self.start_panel)
        self.start_panel.check_keyring()
        self.start_panel.setFocus()
        if not self._started:
            self._started = True
            self.controller.load_jobs(resume=False)   # listed, not run: no key yet

    def is_start_panel_shown(self) -> bool:
        return self.pages.currentWidget() is self.start_panel

    # -- window state (not user settings, never the key) -----------------------------------------

    def _state_store(self) -> QSettings:
        path = self.engine.paths.data_dir / WINDOW_STATE_FILE
        return QSettings(str(path), QSettings.Format.IniFormat)

    def _restore_window_state(self) -> None:
        state = self._state_store()
        geometry = state.value("window/geometry")
        if not (isinstance(geometry, QByteArray) and self.restoreGeometry(geometry)):
            self.resize(self._default_size())
        sizes = state.value("window/splitter")
        # Files written before "splitterChosen" existed: their sizes count as chosen.
        chosen = str(state.value("window/splitterChosen", "true")).lower() == "true"
        if isinstance(sizes, QByteArray) and chosen and self.splitter.restoreState(sizes):
            self._splitter_auto = False
        else:
            self._fit_splitter()

    def _fit_splitter(self) -> None:
        """Give the jobs list its default share of the splitter's width (the form the rest)."""
        if not self._splitter_auto:
            return
        total = self.splitter.width() - self.splitter.handleWidth()
        if total <= 0:
            return
        jobs = default_jobs_width(total)
        self.splitter.setSizes([max(1, total - jobs), jobs])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.splitter and event.type() == QEvent.Type.Resize:
            self._fit_splitter()
        return super().eventFilter(watched, event)

    @Slot(int, int)
    def on_splitter_splitterMoved(self, _pos: int, _index: int) -> None:
        self._splitter_auto = False

    def _default_size(self) -> QSize:
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return DEFAULT_SIZE
        available = screen.availableGeometry().size()
        return DEFAULT_SIZE.boundedTo(QSize(int(available.width() * 0.95),
                                            int(available.height() * 0.95)))

    def save_window_state(self) -> None:
        state = self._state_store()
        state.setValue("window/geometry", self.saveGeometry())
        state.setValue("window/splitter", self.splitter.saveState())
        state.setValue("window/splitterChosen", "false" if self._splitter_auto else "true")
        state.sync()

    # -- generating ------------------------------------------------------------------------------

    @Slot(object)
    def on_form_generate_requested(self, payload: object) -> None:
        if not isinstance(payload, tuple) or len(payload) != 2:
            return
        batch, options = payload
        if not isinstance(batch, BatchReport) or not isinstance(options, JobOptions):
            return
        settings = self.user_settings
        if not self.demo and settings.confirm_before_generate:
            if not confirm_generation(self, batch, options, settings):
                self.form.generation_done()
                return
            if not settings.confirm_before_generate:   # "Don't ask again"
                self.engine.settings.confirm_before_generate = False
                self.tasks.run(save_settings, settings, self.engine.paths.settings_file,
                               on_failed=self._on_settings_save_failed)
        self.controller.submit(batch, options)

    @Slot(list)
    def on_controller_submitted(self, jobs: list[Job]) -> None:
        self.form.generation_accepted()
        if jobs:
            self.jobs_panel.view.scrollToTop()
            row = self.jobs_panel.model.row_of(jobs[-1].id)
            if row is not None:
                self.jobs_panel.view.setCurrentIndex(self.jobs_panel.model.index(row))
        count = len(jobs)
        self.statusBar().showMessage(
            f"{count} jobs queued" if count > 1 else "Job queued", 5000)

    @Slot(object)
    def on_controller_submit_failed(self, error: object) -> None:
        self.form.generation_done()
        err = error if isinstance(error, api_errors.KlingError) else api_errors.KlingError()
        causes = err.causes if isinstance(err, PlanRefusedError) else (err,)
        if any(isinstance(cause, NoApiKeyError) for cause in causes):
            self._show_start()
            return
        self._error_box("Nothing was sent" if isinstance(err, PlanRefusedError)
                        else "The job could not be queued", err)

    # -- jobs ------------------------------------------------------------------------------------

    @Slot(list)
    def on_controller_jobs_loaded(self, jobs: list[Job]) -> None:
        self.jobs_panel.set_jobs(jobs)

    @Slot(object)
    def on_controller_load_failed(self, error: object) -> None:
        if isinstance(error, api_errors.KlingError):
            self.jobs_panel.set_load_error(error)

    @Slot(object)
    def on_controller_job_finished(self, job: object) -> None:
        if not isinstance(job, Job):
            return
        if job.state is JobState.COMPLETED:
            self.statusBar().showMessage("Video saved to the library", 5000)
        if self.user_settings.notify_when_done:
            self.notifier.notify_job(job, self)

    @Slot(int, object)
    def on_controller_job_failed(self, job_id: int, error: object) -> None:
        self.jobs_panel.set_note(job_id, error)
        if isinstance(error, api_errors.KlingError):
            self.statusBar().showMessage(error.message, 8000)

    @Slot(int)
    def on_controller_active_count_changed(self, count: int) -> None:
        title = f"{APP_NAME} — Demo" if self.demo else APP_NAME
        self.setWindowTitle(f"{title} ({count} running)" if count else title)

    @Slot(str, object)
    def on_jobs_panel_action_triggered(self, action: str, job: object) -> None:
        if not isinstance(job, Job):
            return
        handlers: dict[str, Callable[[], object]] = {
            Action.RETRY: lambda: self.controller.retry(job.id),
            Action.TRY_NOW: lambda: self.controller.run_now(job.id),
            Action.CANCEL: lambda: self.cancel_job(job),
            Action.OPEN_SETTINGS: self.open_settings,
            Action.TOP_UP: lambda: self.top_up(job),
            Action.CHOOSE_INPUTS: lambda: self.reuse_job(job, keep_video=True,
                                                          message="Choose another picture or "
                                                          "clip, then press Generate."),
            Action.USE_LINK: lambda: self.use_link_for(job),
            Action.SEND_AGAIN: lambda: self.send_again(job),
            Action.PLAY: lambda: self.play(job),
            Action.SHOW_IN_FOLDER: lambda: self.show_in_folder(job),
            Action.REUSE: lambda: self.reuse_job(job, keep_video=True,
                                                 message="The job's inputs and options are in "
                                                 "the form."),
            Action.COPY_DETAILS: lambda: self.jobs_panel.copy_details(job),
        }
        handler = handlers.get(action)
        if handler is not None:
            handler()

    def cancel_job(self, job: Job) -> None:
        if job.task_id:
            answer = self._ask(
                "Stop following this job?",
                "The provider already has it and may still finish (and bill) it; the video "
                "will not be downloaded.",
                yes="Stop following", no="Keep it")
            if not answer:
                return
        self.controller.cancel(job.id)

    def send_again(self, job: Job) -> None:
        box = QMessageBox(self)
        box.setObjectName("sendAgainBox")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Send again?")
        box.setText("The provider may already have this job.")
        box.setInformativeText(
            "The app lost the provider's answer while sending it, so it may have been "
            "accepted and billed. Sending it again could make the same video twice and charge "
            "you twice.\n\nCheck the task list in your provider's dashboard first, and send it "
            "again only if the job is not there.")
        send = box.addButton("Send again", QMessageBox.ButtonRole.DestructiveRole)
        send.setObjectName("sendAgainButton")
        keep = box.addButton("Don't send", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.exec()
        confirmed = box.clickedButton() is send
        box.deleteLater()
        if confirmed:
            self.controller.retry(job.id, confirm_possible_duplicate=True)

    def top_up(self, job: Job) -> None:
        site = None if job.demo else provider_site(job.base_url or self.engine.base_url)
        if site is None:
            QMessageBox.information(
                self, "Top up",
                "This job ran in the demo (or on a provider on this computer): nothing was "
                "billed and there is no balance to top up.")
            return
        if self.open_url(QUrl(site)):
            self.statusBar().showMessage(
                f"Opened {site}: add credit there, then press Retry.", 10000)

    def use_link_for(self, job: Job) -> None:
        self.reuse_job(job, keep_video=False,
                       message="Paste a public https:// link to the clip in the motion box, "
                               "then press Generate.")
        self.form.video_slot.url_edit.setFocus()

    def reuse_job(self, job: Job, *, keep_video: bool, message: str) -> None:
        spec = job.spec
        self.form.apply_options(spec.options)
        self.form.set_inputs([spec.image], [spec.video] if keep_video else [])
        self.pages.setCurrentWidget(self.splitter)
        self.statusBar().showMessage(message, 10000)

    def play(self, job: Job) -> None:
        if job.output_path:
            self.open_url(QUrl.fromLocalFile(job.output_path))

    def show_in_folder(self, job: Job) -> None:
        if not job.output_path:
            return
        path = Path(job.output_path)
        if sys.platform == "win32" and QProcess.startDetached(
                "explorer", ["/select,", str(path)])[0]:
            return
        if sys.platform == "darwin" and QProcess.startDetached("open", ["-R", str(path)])[0]:
            return
        self.open_url(QUrl.fromLocalFile(str(path.parent)))

    # -- menu actions -----------------------------------------------------------------------------

    @Slot()
    def open_settings(self) -> None:
        if self._settings_dialog is not None:
            self._settings_dialog.raise_()
            self._settings_dialog.activateWindow()
            return
        dialog = SettingsDialog(self.user_settings, self.engine.paths.settings_file, self,
                                tasks=self.tasks)
        dialog.saved.connect(self.on_settings_saved)
        dialog.finished.connect(self._on_settings_dialog_finished)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._settings_dialog = dialog
        dialog.open()

    def _on_settings_dialog_finished(self, _result: int) -> None:
        self._settings_dialog = None

    @Slot(object)
    def on_settings_saved(self, settings: object) -> None:
        if not isinstance(settings, Settings):
            return
        self.user_settings = settings
        try:
            apply_settings(self.engine, settings)
        except api_errors.KlingError as exc:
            self._error_box("The new settings could not be used", exc)
        self.form.set_settings(settings)
        if self.gallery is not None and self.gallery.library is not self.engine.library:
            if self.tabs.currentWidget() is self.library_page:
                self.ensure_gallery()
            else:  # rebuilt on the next visit of the tab
                self.gallery.shutdown(GALLERY_SHUTDOWN_MS)
                self.gallery.deleteLater()
                self.gallery = None
        self.controller.set_max_concurrent(settings.max_concurrent_jobs)
        self.controller.key_changed()
        if not self.demo:
            self.start_panel.set_provider(self.engine.base_url)
        self.statusBar().showMessage("Settings saved", 4000)
        if self.is_start_panel_shown():
            self.tasks.run(self.engine.require_key, on_done=lambda _r: self._show_main(True))

    def _on_settings_save_failed(self, error: BaseException) -> None:
        self.statusBar().showMessage(f"Settings not saved: {error}", 8000)

    @Slot()
    def open_library_folder(self) -> None:
        root = self.engine.library.root
        self.tasks.run(root.mkdir, parents=True, exist_ok=True,
                       on_done=lambda _r: self._open_folder(root),
                       on_failed=lambda exc: self._error_box(
                           "The library folder cannot be opened",
                           api_errors.KlingError(f"{root}: {exc}",
                                                 fix="Choose another library folder in "
                                                     "Settings.")))

    def _open_folder(self, folder: Path) -> None:
        self.open_url(QUrl.fromLocalFile(str(folder)))

    @Slot()
    def open_log_folder(self) -> None:
        self.open_url(QUrl.fromLocalFile(str(self.engine.paths.logs_dir)))

    @Slot()
    def show_about(self) -> None:
        show_about(self, self.icon, self.engine.paths)

    @Slot()
    def focus_form(self) -> None:
        self.tabs.setCurrentWidget(self.pages)
        self.form.image_slot.choose_button.setFocus(Qt.FocusReason.ShortcutFocusReason)

    @Slot()
    def focus_jobs(self) -> None:
        self.tabs.setCurrentWidget(self.pages)
        self.jobs_panel.view.setFocus(Qt.FocusReason.ShortcutFocusReason)

    @Slot()
    def on_start_panel_key_ready(self) -> None:
        self.statusBar().showMessage("API key saved", 5000)
        self._show_main(resume=True)
        self.controller.key_changed()
        self.focus_form()

    @Slot()
    def on_banner_leave_requested(self) -> None:
        self.leave_demo_requested.emit()

    def open_url(self, url: QUrl) -> bool:
        """Open a link or a file with the desktop's default application."""
        if QDesktopServices.openUrl(url):
            return True
        QMessageBox.warning(self, "Could not open",
                            f"Nothing on this computer could open:\n{url.toDisplayString()}")
        return False

    # -- closing ----------------------------------------------------------------------------------

    def ask_about_running_jobs(self, count: int) -> str:
        """"Keep N running jobs for next time?" -> QuitChoice."""
        box = QMessageBox(self)
        box.setObjectName("quitBox")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Quit")
        if self.demo:
            box.setText(f"Quit the demo? {count} demo job{'s are' if count > 1 else ' is'} "
                        "still running.")
            box.setInformativeText("Demo jobs end with the demo; nothing was billed.")
            quit_button = box.addButton("Quit", QMessageBox.ButtonRole.AcceptRole)
            stay = box.addButton("Don't quit", QMessageBox.ButtonRole.RejectRole)
            box.setDefaultButton(quit_button)
            box.setEscapeButton(stay)
            box.exec()
            clicked = box.clickedButton()
            box.deleteLater()
            return QuitChoice.STOP if clicked is quit_button else QuitChoice.STAY
        plural = "s" if count > 1 else ""
        unsent = sum(1 for job in self.jobs_panel.model.jobs()
                     if job.state.is_active and not job.task_id)
        box.setText(f"Keep {count} running job{plural} for next time?")
        box.setInformativeText(
            f"Kept jobs carry on when you open {APP_NAME} again, and finished videos are "
            "downloaded then (the provider keeps them for 24 hours).\n\n"
            + (f"{unsent} of them {'has' if unsent == 1 else 'have'} not been sent yet: "
               f"stopping {'it' if unsent == 1 else 'them'} costs nothing. " if unsent else "")
            + "Jobs the provider already has keep running there (and are billed) either way; "
            "they are followed again next time.")
        keep = box.addButton("Keep for next time", QMessageBox.ButtonRole.AcceptRole)
        keep.setObjectName("keepJobs")
        stop = box.addButton("Stop jobs not sent yet", QMessageBox.ButtonRole.DestructiveRole)
        stop.setObjectName("stopJobs")
        stop.setEnabled(unsent > 0)
        stay = box.addButton("Don't quit", QMessageBox.ButtonRole.RejectRole)
        stay.setObjectName("dontQuit")
        box.setDefaultButton(keep)
        box.setEscapeButton(stay)
        box.exec()
        clicked = box.clickedButton()
        box.deleteLater()
        if clicked is keep:
            return QuitChoice.KEEP
        if clicked is stop:
            return QuitChoice.STOP
        return QuitChoice.STAY

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closing_done:
            event.accept()
            return
        choice = QuitChoice.KEEP
        running = self.controller.active_count()
        if running:
            choice = self.ask_about_running_jobs(running)
            if choice == QuitChoice.STAY:
                event.ignore()
                return
        self.save_window_state()
        self.shutdown(stop_jobs=choice == QuitChoice.STOP)
        event.accept()
        self.closed.emit()

    # -- library tab -------------------------------------------------------------------------

    @Slot(int)
    def on_tabs_currentChanged(self, index: int) -> None:
        if self.tabs.widget(index) is self.library_page:
            self.ensure_gallery()

    @Slot()
    def show_gallery(self) -> None:
        self.tabs.setCurrentWidget(self.library_page)

    def ensure_gallery(self) -> GalleryWidget:
        """Build the gallery over the engine's current library (once, or after a move)."""
        if self.gallery is not None and self.gallery.library is self.engine.library:
            return self.gallery
        if self.gallery is not None:
            self.gallery.shutdown(GALLERY_SHUTDOWN_MS)
            self.gallery.deleteLater()
        from kling_desktop.ui.gallery import GalleryWidget  # built on first visit of the tab

        gallery = GalleryWidget(self.engine.library, self.engine.store, tasks=self.tasks,
                                parent=self.library_page)
        gallery.use_settings_again.connect(self.on_gallery_use_settings_again)
        gallery.status_message.connect(self.on_gallery_status_message)
        layout = self.library_page.layout()
        assert layout is not None
        layout.addWidget(gallery)
        self.gallery = gallery
        return gallery

    @Slot(object)
    def on_gallery_use_settings_again(self, entry: object) -> None:
        if not isinstance(entry, LibraryEntry):
            return
        library = self.engine.library
        inputs = []
        for ref in (entry.image, entry.video):
            kept = library.input_path(ref)
            inputs.append(str(kept) if kept is not None else (ref.url or ""))
        image, video = inputs
        try:
            options = JobOptions(
                model=Model(entry.model), mode=Mode(entry.mode), prompt=entry.prompt,
                orientation=Orientation(entry.orientation),
                keep_original_sound=entry.keep_original_sound)
        except ValueError:
            self.statusBar().showMessage(
                "These settings come from a newer or unknown model; pick them by hand.", 8000)
            return
        self.form.apply_options(options)
        self.form.set_inputs([image] if image else [], [video] if video else [])
        self.tabs.setCurrentWidget(self.pages)
        missing = [name for name, value in (("picture", image), ("clip", video)) if not value]
        note = (f" The {' and '.join(missing)} was not kept with this result; add it again."
                if missing else "")
        self.statusBar().showMessage("Settings of the saved result are in the form." + note,
                                     8000)

    @Slot(str)
    def on_gallery_status_message(self, message: str) -> None:
        self.statusBar().showMessage(message, 6000)

    def shutdown(self, timeout_ms: int = SHUTDOWN_TIMEOUT_MS, *, stop_jobs: bool = False) -> bool:
        """Stop every worker this window started (bounded). True when all of them ended."""
        if self._closing_done:
            return self._workers_clean
        self._closing_done = True
        if self._settings_dialog is not None:
            self._settings_dialog.reject()
        gallery_done = True
        if self.gallery is not None:
            gallery_done = self.gallery.shutdown(min(timeout_ms, GALLERY_SHUTDOWN_MS))
        self.form.shutdown()
        done = self.controller.shutdown(timeout_ms, stop_jobs=stop_jobs)
        if self._owns_tasks:
            done = self.tasks.shutdown(max(1000, timeout_ms // 2)) and done
        self.notifier.close()
        self._workers_clean = done and gallery_done
        return self._workers_clean

    # -- helpers ---------------------------------------------------------------------------------

    def _ask(self, question: str, detail: str, *, yes: str, no: str) -> bool:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setText(question)
        box.setInformativeText(detail)
        yes_button = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
        no_button = box.addButton(no, QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(no_button)
        box.setEscapeButton(no_button)
        box.exec()
        answer = box.clickedButton() is yes_button
        box.deleteLater()
        return answer

    def _error_box(self, title: str, error: api_errors.KlingError) -> None:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(title)
        box.setText(error.message)
        if error.fix:
            box.setInformativeText(error.fix)
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
