"""The main window: builds the tabs ("Create": start panel | form + jobs; "Library"),
the menus, and wires the form, the jobs panel and the job controller together.

The window makes the user's decisions (confirm before spending, what to do with
running jobs on quit); the form checks inputs, the panel shows jobs, the controller
runs them. The rest of the window lives next door: what a job's button does in
``job_actions``, the message boxes in ``dialogs``, the menus and what they open in
``menus``, geometry and the divider in ``state``, the settings dialog in
``user_settings``, the gallery's page in ``library_tab``, the jobs panel's frame in
``jobs_frame``, how the window starts in ``start_up``; opening files and links is
``kling_desktop.ui.desktop``.

Paint first, then load: the window is built from the settings alone, with the form (it
takes a drop at once) and the jobs panel's frame; the jobs list, the job controller
and the start panel follow right after the first paint (``start_up.WindowStart``).
What only a click opens (Settings, About, the keyboard help, the gallery, the demo's
simulator) is imported when it is opened.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QCloseEvent, QGuiApplication, QIcon, QShowEvent
from PySide6.QtWidgets import (
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kling_desktop import APP_NAME
from kling_desktop.engine.runner import Engine, NoApiKeyError
from kling_desktop.engine.settings import Settings, save_settings
from kling_desktop.errors import KlingError, error_text
from kling_desktop.i18n import _, ngettext
from kling_desktop.keys import key_from_environment
from kling_desktop.ui.desktop import DesktopOpener
from kling_desktop.ui.form import GenerateForm
from kling_desktop.ui.main_window.banner import DemoBanner, DoneBanner
from kling_desktop.ui.main_window.dialogs import QuitChoice, ask_about_running_jobs, show_error
from kling_desktop.ui.main_window.jobs_frame import JobsFrame
from kling_desktop.ui.main_window.library_tab import LibraryTab
from kling_desktop.ui.main_window.menus import WindowMenus
from kling_desktop.ui.main_window.start_up import WindowStart
from kling_desktop.ui.main_window.state import FORM_PAGE, MINIMUM_SIZE, START_PAGE, WindowState
from kling_desktop.ui.main_window.user_settings import SettingsDoor, apply_settings
from kling_desktop.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from kling_desktop.engine.jobs import Job
    from kling_desktop.ui.demo import DemoSession
    from kling_desktop.ui.gallery import GalleryWidget
    from kling_desktop.ui.job_controller import JobController
    from kling_desktop.ui.jobs import JobsPanel
    from kling_desktop.ui.main_window.job_actions import JobActions
    from kling_desktop.ui.notifications import Notifier
    from kling_desktop.ui.start_panel import StartPanel

log = logging.getLogger(__name__)


def as_job(value: object) -> Job | None:
    """``value`` when it is a job (signals carry jobs as objects), else None. The job
    module is imported here, not with the window: it loads with the job store, after the
    first paint."""
    from kling_desktop.engine.jobs import Job

    return value if isinstance(value, Job) else None


SHUTDOWN_TIMEOUT_MS = 8000
#: A window shown but never painted (started minimized, on a hidden desktop) loads anyway.
FIRST_PAINT_FALLBACK_MS = 1500


def window_title(*, demo: bool, running: int) -> str:
    """What the window adds to the app's name. Qt appends the application's display name
    itself ("Demo · 2 running — Kling Motion Studio"), except to a title that is that name
    (an empty title would leave some window managers showing "Untitled")."""
    parts = (([_("Demo")] if demo else [])
             + ([ngettext("{n} running", "{n} running", running).format(n=running)]
                if running else []))
    return " · ".join(parts) or APP_NAME


class MainWindow(QMainWindow):
    """The window. ``closed`` after it was closed and its workers were shut down.

    ``demo_requested`` / ``leave_demo_requested``: the user wants to switch modes
    (the application builds the other kind of window). ``rest_built``: the jobs list and
    what runs the jobs are built and loading (after the first paint). ``jobs_listed``:
    the job list's first read is over, shown or its error shown (once).
    """

    closed = Signal()
    rest_built = Signal()
    jobs_listed = Signal()
    demo_requested = Signal()
    leave_demo_requested = Signal()

    # Built right after the first paint (see start_up.WindowStart), or at once for tests.
    controller: JobController
    notifier: Notifier
    job_actions: JobActions
    jobs_panel: JobsPanel
    start_panel: StartPanel

    def __init__(self, engine: Engine, *, demo_session: DemoSession | None = None,
                 tasks: TaskRunner | None = None, has_key: bool | None = None,
                 icon: QIcon | None = None, user_settings: Settings | None = None,
                 progressive: bool = False) -> None:
        """``progressive``: build the jobs list, what runs the jobs and the start panel
        right after the first paint (the app); otherwise now (tests, tools)."""
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
        self.start = WindowStart(self, has_key=has_key)   # paint first, then the rest

        self.setObjectName("mainWindow")
        self.setWindowTitle(window_title(demo=self.demo, running=0))
        if not self.icon.isNull():
            self.setWindowIcon(self.icon)
        self.setMinimumSize(MINIMUM_SIZE)

        self.opener = DesktopOpener(self)
        self.opener.failed.connect(self.on_opener_failed)
        self.settings_door = SettingsDoor(self, self.tasks, engine.paths.settings_file)
        self.settings_door.saved.connect(self.on_settings_saved)
        self._build()
        self.menus = WindowMenus(self)
        self.form.generate_requested.connect(self.on_form_generate_requested)
        self.library_page.use_settings_again.connect(self.on_library_page_use_settings_again)
        self.library_page.status_message.connect(self.on_library_page_status_message)
        self.window_state.restore()
        if self.demo:   # the sample inputs are part of the demo's first form
            self._set_demo_inputs()
        elif (progressive and has_key is not True and self.window_state.last_page == START_PAGE
              and key_from_environment() is None):
            self.start.show_start_first()   # (the keyring decides, after the first paint)
        self.installEventFilter(self)
        if not progressive:
            self.start.build_rest()

    # -- construction --------------------------------------------------------------------------

    def _build(self) -> None:
        central = QWidget(self)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)

        self.banner: DemoBanner | None = None
        if self.demo:
            self.banner = DemoBanner(central)
            self.banner.leave_requested.connect(self.leave_demo_requested)
            outer.addWidget(self.banner)
        # Where the desktop has no notifications: jobs that ended unseen, until seen.
        self.done_banner = DoneBanner(central)
        self.done_banner.open_requested.connect(self.on_done_banner_open_requested)
        outer.addWidget(self.done_banner)

        self.pages = QStackedWidget(central)
        self.form = GenerateForm(self.tasks, self.user_settings, self.pages, demo=self.demo)
        self.form.setAccessibleName(_("New video"))
        self.jobs_frame: JobsFrame | None = JobsFrame(self.pages)   # until the list is built

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self.pages)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.form)
        self.splitter.addWidget(self.jobs_frame)
        # A larger window grows the form (its previews); the jobs list keeps its width.
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.window_state = WindowState(self, self.splitter, self.engine.paths.data_dir)

        self.pages.addWidget(self.splitter)

        # "Create" holds the start panel or the form + jobs; "Library" the saved results,
        # which open offline and without a key. The gallery is built on first show.
        self.tabs = QTabWidget(central)
        self.tabs.setObjectName("mainTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.pages, _("Create"))
        self.library_page = LibraryTab(self.engine, self.tasks, self.tabs)
        self.tabs.addTab(self.library_page, _("Library"))
        self.tabs.setTabToolTip(0, _("Make new videos and follow their progress"))
        self.tabs.setTabToolTip(
            1, _("Review, play and compare every saved result (works offline)"))
        self.tabs.currentChanged.connect(self.on_tabs_currentChanged)
        outer.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.statusBar().setSizeGripEnabled(True)

    # -- after the first paint -----------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self and event.type() == QEvent.Type.Paint
                and not self.start.is_loading_started()):
            self.removeEventFilter(self)
            QTimer.singleShot(0, self.start_loading)
        return super().eventFilter(watched, event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self.start.is_loading_started():
            QTimer.singleShot(FIRST_PAINT_FALLBACK_MS, self.start_loading)

    @Slot()
    def start_loading(self) -> None:
        """Build the rest and load (once; see :class:`WindowStart`)."""
        self.start.start_loading()

    def is_loading_started(self) -> bool:
        return self.start.is_loading_started()

    def is_start_panel_shown(self) -> bool:
        return self.start.is_start_panel_shown()

    def is_closing(self) -> bool:
        return self._closing_done

    def _set_demo_inputs(self) -> None:
        from kling_desktop.ui.demo import DemoSession  # imports the simulator: demo only

        images, videos = DemoSession.sample_inputs()
        self.form.set_inputs(images, videos)

    # -- generating ------------------------------------------------------------------------------

    @Slot(object)
    def on_form_generate_requested(self, payload: object) -> None:
        if not isinstance(payload, tuple) or len(payload) != 2:
            return
        self.start.build_rest()        # (Generate pressed in the first moment: built now)
        from kling_desktop.engine.batch import BatchReport, JobOptions  # (the form's checks)

        batch, options = payload
        if not isinstance(batch, BatchReport) or not isinstance(options, JobOptions):
            return
        origins = self.form.origins()     # the jobs remember where converted inputs came from
        settings = self.user_settings
        if self.demo or settings.confirm_before_generate:   # the demo rehearses it
            from kling_desktop.ui.confirm import confirm_generation  # when asked

            if not confirm_generation(self, batch, options, settings, demo=self.demo):
                self.form.generation_done()
                return
            if not self.demo and not settings.confirm_before_generate:   # "Don't ask again"
                self.engine.settings.confirm_before_generate = False
                self.tasks.run(save_settings, settings, self.engine.paths.settings_file,
                               on_failed=self._on_settings_save_failed)
        self.controller.submit(batch, options, origins)

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
            ngettext("{n} job queued", "{n} jobs queued", count).format(n=count), 5000)

    @Slot(object)
    def on_controller_submit_failed(self, error: object) -> None:
        from kling_desktop.engine.planning import PlanRefusedError

        self.form.generation_done()
        err = error if isinstance(error, KlingError) else KlingError()
        causes = err.causes if isinstance(err, PlanRefusedError) else (err,)
        if any(isinstance(cause, NoApiKeyError) for cause in causes):
            self.start.show_start()
            return
        show_error(self, _("Nothing was sent") if isinstance(err, PlanRefusedError)
                   else _("The job could not be queued"), err)

    # -- jobs ------------------------------------------------------------------------------------

    @Slot(list)
    def on_controller_jobs_loaded(self, jobs: list[Job]) -> None:
        self.jobs_panel.set_jobs(jobs)

    @Slot(object)
    def on_controller_load_failed(self, error: object) -> None:
        if isinstance(error, KlingError):
            self.jobs_panel.set_load_error(error)

    @Slot(object)
    def on_controller_job_finished(self, value: object) -> None:
        from kling_desktop.engine.jobs import JobState

        job = as_job(value)
        if job is None:
            return
        if job.state is JobState.COMPLETED:
            self.statusBar().showMessage(_("Video saved to the library"), 5000)
        if self.user_settings.notify_when_done:
            self.notifier.notify_job(job, self)

    @Slot(object)
    def on_notifier_banner_requested(self, value: object) -> None:
        if (job := as_job(value)) is not None:
            from kling_desktop.ui.notifications import notification_text

            title, body, _bad = notification_text(job)
            self.done_banner.add(job.id, title, body)

    @Slot(int)
    def on_done_banner_open_requested(self, job_id: int) -> None:
        self.start.build_rest()
        self.tabs.setCurrentWidget(self.pages)
        row = self.jobs_panel.model.row_of(job_id)
        if row is not None:
            self.jobs_panel.view.setCurrentIndex(self.jobs_panel.model.index(row))
            self.jobs_panel.view.scrollTo(self.jobs_panel.model.index(row))
            self.jobs_panel.view.setFocus(Qt.FocusReason.OtherFocusReason)
        self.done_banner.seen(job_id)

    @Slot(QModelIndex, QModelIndex)
    def on_jobs_view_currentChanged(self, current: QModelIndex, _previous: QModelIndex) -> None:
        from kling_desktop.ui.jobs.model import JobRole

        job = as_job(current.data(JobRole)) if current.isValid() else None
        if job is not None:
            self.done_banner.seen(job.id)

    @Slot(int, object)
    def on_controller_job_failed(self, job_id: int, error: object) -> None:
        self.jobs_panel.set_note(job_id, error)
        if isinstance(error, KlingError):
            self.statusBar().showMessage(error.message, 8000)

    @Slot(int)
    def on_controller_active_count_changed(self, count: int) -> None:
        self.setWindowTitle(window_title(demo=self.demo, running=count))

    @Slot(str, object)
    def on_jobs_panel_action_triggered(self, action: str, value: object) -> None:
        if (job := as_job(value)) is not None:
            self.job_actions.trigger(action, job)

    def top_up(self, job: Job) -> None:
        """Open the provider's website to add credit (or say there is none to add)."""
        self.job_actions.top_up(job)

    # -- menu actions -----------------------------------------------------------------------------

    @Slot()
    def open_settings(self) -> None:
        self.settings_door.open(self.user_settings)

    @Slot(object)
    def on_settings_saved(self, settings: object) -> None:
        if not isinstance(settings, Settings):
            return
        self.start.build_rest()
        self.user_settings = settings
        try:
            apply_settings(self.engine, settings)
        except KlingError as exc:
            show_error(self, _("The new settings could not be used"), exc)
        self.form.set_settings(settings)
        self.library_page.follow_library(
            shown=self.tabs.currentWidget() is self.library_page)
        self.controller.set_max_concurrent(settings.max_concurrent_jobs)
        self.controller.key_changed()
        if not self.demo:
            self.start_panel.set_provider(self.engine.base_url)
        self.start_panel.set_account_page(settings.account_page())
        self.statusBar().showMessage(_("Settings saved"), 4000)
        if self.is_start_panel_shown():
            self.tasks.run(self.engine.require_key, on_done=lambda _r: self.start.show_main(True))

    def _on_settings_save_failed(self, error: BaseException) -> None:
        self.statusBar().showMessage(
            _("Settings not saved: {problem}").format(problem=error_text(error)), 8000)

    @Slot()
    def focus_form(self) -> None:
        self.tabs.setCurrentWidget(self.pages)
        self.form.image_slot.choose_button.setFocus(Qt.FocusReason.ShortcutFocusReason)

    @Slot()
    def focus_jobs(self) -> None:
        self.start.build_rest()
        self.tabs.setCurrentWidget(self.pages)
        self.jobs_panel.view.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def open_url(self, url: QUrl) -> bool:
        """Open a link or a file with the desktop's default application (started now;
        a box says so at once when the computer has nothing to open it with)."""
        if url.isLocalFile():      # said at once: the application may take a while
            self.statusBar().showMessage(_("Opening “{name}”…").format(
                name=Path(url.toLocalFile()).name), 5000)
        self.opener.open(url)
        return True

    @Slot(str)
    def on_opener_failed(self, text: str) -> None:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.warning(self, _("Could not open"), text)

    # -- library tab -------------------------------------------------------------------------

    @property
    def gallery(self) -> GalleryWidget | None:
        """The library tab's gallery, once it was shown."""
        return self.library_page.gallery

    @Slot(int)
    def on_tabs_currentChanged(self, index: int) -> None:
        if self.tabs.widget(index) is self.library_page:
            self.library_page.ensure_gallery()

    @Slot()
    def show_gallery(self) -> None:
        self.tabs.setCurrentWidget(self.library_page)

    @Slot(object)
    def on_library_page_use_settings_again(self, entry: object) -> None:
        from kling_desktop.engine.library import LibraryEntry  # loaded with the gallery

        if isinstance(entry, LibraryEntry):
            self.start.build_rest()
            self.job_actions.reuse_result(entry)

    @Slot(str)
    def on_library_page_status_message(self, message: str) -> None:
        self.statusBar().showMessage(message, 6000)

    # -- closing ----------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closing_done:
            event.accept()
            return
        choice = QuitChoice.KEEP
        running = self.controller.active_count() if self.start.rest_built else 0
        if running:
            unsent = sum(1 for job in self.jobs_panel.model.jobs()
                         if job.state.is_active and not job.task_id)
            choice = ask_about_running_jobs(self, running, unsent=unsent, demo=self.demo)
            if choice == QuitChoice.STAY:
                event.ignore()
                return
        # The demo's pages say nothing of the user's own start (it never asks for a key).
        self.window_state.save(page=None if self.demo else
                               START_PAGE if self.is_start_panel_shown() else FORM_PAGE)
        self.shutdown(stop_jobs=choice == QuitChoice.STOP)
        event.accept()
        self.closed.emit()

    def shutdown(self, timeout_ms: int = SHUTDOWN_TIMEOUT_MS, *, stop_jobs: bool = False) -> bool:
        """Stop every worker this window started (bounded). True when all of them ended."""
        if self._closing_done:
            return self._workers_clean
        self._closing_done = True
        # Deleting the tabs' pages later changes the current tab: no slot of a window
        # being torn down may run then.
        self.tabs.currentChanged.disconnect(self.on_tabs_currentChanged)
        self.settings_door.close()
        gallery_done = self.library_page.shutdown(timeout_ms)
        self.form.shutdown()
        done = True
        if self.start.rest_built:
            gallery_done = self.jobs_panel.shutdown(timeout_ms) and gallery_done  # its posters
            done = self.controller.shutdown(timeout_ms, stop_jobs=stop_jobs)
        if self._owns_tasks:
            done = self.tasks.shutdown(max(1000, timeout_ms // 2)) and done
        if self.start.rest_built:
            self.notifier.close()
        self._workers_clean = done and gallery_done
        return self._workers_clean
