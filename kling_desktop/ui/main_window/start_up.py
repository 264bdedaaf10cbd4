"""How the window starts: painted first, the rest built right after (issue 16).

The window is painted with the form and the jobs panel's frame (``jobs_frame``). Then,
in the app (``progressive``), the log file, the job store and the library open and the
modules of the jobs list, the job controller, the job actions, notifications and the
start panel load on a worker (the painted form answers meanwhile; a job database that
cannot be used is explained in a message box and the window closes), the main thread
builds them in the frame's place, reads the job list and shows it, then asks the keyring
whether a key is set up (both on workers); then it shows the form (and follows the
unfinished jobs) or the start panel. :class:`WindowStart` is the window's helper for
this, like its menus and its job actions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Slot

from kling_desktop.api.errors import InsecureBaseURLError
from kling_desktop.engine.runner import Engine, NoApiKeyError
from kling_desktop.errors import KlingError
from kling_desktop.i18n import _
from kling_desktop.logging_setup import open_log_file
from kling_desktop.ui.main_window.dialogs import show_error, show_startup_error

if TYPE_CHECKING:
    from kling_desktop.ui.main_window.window import MainWindow

log = logging.getLogger(__name__)


def _open_the_rest(engine: Engine) -> None:
    """(On a worker.) Open the log file (what was logged so far was held), the job store
    and the library, then load the modules of what the window builds after its first
    paint (a quarter of the modules the window loads), so the main thread only builds the
    widgets."""
    open_log_file()
    engine.open_store()
    import kling_desktop.ui.job_controller
    import kling_desktop.ui.jobs
    import kling_desktop.ui.main_window.job_actions
    import kling_desktop.ui.notifications
    import kling_desktop.ui.start_panel  # noqa: F401


def _tidy_converted_inputs(engine: Engine) -> None:
    """(On a worker.) Converted inputs no job needs any more go after a month."""
    from kling_desktop.engine.library import converted_dir, prune_converted

    prune_converted(converted_dir(engine.library.root), engine.store)


class WindowStart:
    """The window's start (see the module), for :class:`MainWindow`."""

    def __init__(self, window: MainWindow, *, has_key: bool | None) -> None:
        self.window = window
        self._has_key = has_key    # known by the launcher (the demo), else asked
        self._rest_built = False   # the jobs list and the rest: built
        self._loading = False      # the keyring and the job list: asked for
        self._started = False      # the job list: loaded once
        #: The job list could not be opened: the window said why and closed.
        self.failed = False

    @property
    def rest_built(self) -> bool:
        return self._rest_built

    def build_rest(self) -> None:
        """What the first paint does not need (most of the app's code): the jobs list,
        what runs the jobs, the start panel. Once; the jobs list takes its frame's place."""
        window = self.window
        if self._rest_built:
            return
        self._rest_built = True
        from kling_desktop.ui.job_controller import JobController
        from kling_desktop.ui.jobs import JobsPanel
        from kling_desktop.ui.main_window.job_actions import JobActions
        from kling_desktop.ui.notifications import Notifier

        window.controller = JobController(window.engine, window.tasks, window)
        window.notifier = Notifier(window.icon, window, tasks=window.tasks)
        window.job_actions = JobActions(window)
        self._build_start_panel()
        window.jobs_panel = JobsPanel(window.tasks, window.pages)
        sizes = window.splitter.sizes()
        window.splitter.replaceWidget(1, window.jobs_panel)
        window.splitter.setSizes(sizes)
        if window.jobs_frame is not None:
            window.jobs_frame.deleteLater()
            window.jobs_frame = None
        self._connect()
        moved = window.engine.store.moved_aside_message
        if moved:
            QTimer.singleShot(0, lambda: show_error(
                window, _("A new job list was started"), KlingError(moved, fix="")))

    def _connect(self) -> None:
        window = self.window
        c = window.controller
        c.jobs_loaded.connect(window.on_controller_jobs_loaded)
        c.load_failed.connect(window.on_controller_load_failed)
        c.jobs_updated.connect(window.jobs_panel.update_jobs)
        c.job_finished.connect(window.on_controller_job_finished)
        c.job_failed.connect(window.on_controller_job_failed)
        c.job_offline.connect(window.jobs_panel.set_offline)
        c.job_online.connect(window.jobs_panel.clear_offline)
        c.job_note.connect(window.jobs_panel.set_service_note)
        c.submitted.connect(window.on_controller_submitted)
        c.submit_failed.connect(window.on_controller_submit_failed)
        c.active_count_changed.connect(window.on_controller_active_count_changed)
        window.jobs_panel.action_triggered.connect(window.on_jobs_panel_action_triggered)
        window.notifier.banner_requested.connect(window.on_notifier_banner_requested)
        window.notifier.open_requested.connect(window.on_done_banner_open_requested)
        window.jobs_panel.view.selectionModel().currentChanged.connect(
            window.on_jobs_view_currentChanged)

    def _build_start_panel(self) -> None:
        """The page that asks for a key (once)."""
        window = self.window
        if getattr(window, "start_panel", None) is not None:
            return
        from kling_desktop.ui.start_panel import StartPanel

        window.start_panel = StartPanel(window.tasks, window.icon, window.pages,
                                        base_url=None if window.demo else window.engine.address,
                                        account_page=window.user_settings.account_page())
        window.pages.addWidget(window.start_panel)
        window.start_panel.key_ready.connect(self.on_start_panel_key_ready)
        window.start_panel.demo_requested.connect(window.demo_requested)

    def show_start_first(self) -> None:
        """(Before the first paint.) Open on the start panel: the window closed there last
        time (no key yet), or this is the first start. A newcomer sees the welcome, not
        the form for a moment; the keyring is asked after the paint as ever, and the form
        comes forward if it has a key."""
        self._build_start_panel()
        self.window.start_panel.defer_naming()
        self.window.pages.setCurrentWidget(self.window.start_panel)
        self.window.start_panel.setFocus()

    @Slot()
    def start_loading(self) -> None:
        """Ask the keyring and load the job list, on workers (once; after the first paint,
        or a little later for a window that was shown but not painted)."""
        window = self.window
        if self._loading or window.is_closing():
            return
        self._loading = True
        window.removeEventFilter(window)
        if self._rest_built:
            self._go()
        else:   # the store opens and the modules load on a worker: the form answers
            window.tasks.run(_open_the_rest, window.engine, on_done=lambda _none: self._go(),
                             on_failed=self._on_open_failed)

    def _on_open_failed(self, error: BaseException) -> None:
        window = self.window
        if window.engine.store_is_open:
            self._go()   # a module did not load on the worker: it fails, visibly, here
            return
        # Nothing works without the job list (one from a newer version of the app, a
        # data folder that cannot be written): say why and what to do, then close.
        self.failed = True
        if window.is_closing():
            return
        show_startup_error(error, window)
        window.close()

    def _go(self) -> None:
        window = self.window
        if window.is_closing():
            return
        self.build_rest()
        self._start(self._has_key)
        window.tasks.run(_tidy_converted_inputs, window.engine,
                         on_failed=lambda exc: log.info("converted inputs not tidied: %r", exc))
        window.rest_built.emit()

    def is_loading_started(self) -> bool:
        return self._loading

    def _start(self, has_key: bool | None) -> None:
        window = self.window
        if window.demo or has_key is True:
            self.show_main(resume=True)
        elif has_key is False:
            self.show_start()
        else:
            # Asking the keyring may take a while (one that must be unlocked, a slow
            # session bus): the list is read and shown first (its read is short, the
            # keyring's imports would slow it down), and its unfinished jobs are followed
            # once the key is known (show_main) - or never, without one.
            self._read_the_list(resume=False, then=self._ask_for_the_key)

    def _read_the_list(self, *, resume: bool, then: Callable[[], None] | None = None) -> None:
        """The job list's first read (once; see ``JobController.load_jobs``). When it is
        over, read or not, the window says ``jobs_listed``, then ``then`` is called."""
        self._started = True
        window = self.window

        def over() -> None:
            window.jobs_listed.emit()
            if then is not None:
                then()

        window.controller.load_jobs(resume=resume, then=over)

    def _ask_for_the_key(self) -> None:
        window = self.window
        if not window.is_closing():
            window.tasks.run(window.engine.require_key, on_done=lambda _r: self.show_main(True),
                             on_failed=self._on_key_check_failed)

    def _on_key_check_failed(self, error: BaseException) -> None:
        window = self.window
        if not isinstance(error, NoApiKeyError):   # a broken keyring: the panel explains it
            log.warning("could not read the API key: %s", type(error).__name__)
        self.show_start()
        if isinstance(error, InsecureBaseURLError):
            # The address is checked here, after the first paint, not before the window.
            show_error(window, _("The provider address cannot be used"), error)

    def show_main(self, resume: bool) -> None:
        window = self.window
        window.pages.setCurrentWidget(window.splitter)
        if not self._started:
            self._read_the_list(resume=resume)
        elif resume:
            window.controller.resume_all()

    def show_start(self) -> None:
        window = self.window
        window.pages.setCurrentWidget(window.start_panel)
        window.start_panel.name_provider()
        window.start_panel.check_keyring()
        window.start_panel.setFocus()
        if not self._started:
            self._read_the_list(resume=False)   # listed, not run: no key yet

    def is_start_panel_shown(self) -> bool:
        window = self.window
        panel = getattr(window, "start_panel", None)
        return panel is not None and window.pages.currentWidget() is panel

    @Slot()
    def on_start_panel_key_ready(self) -> None:
        window = self.window
        self.build_rest()    # (a key saved in the first moment: built now)
        window.statusBar().showMessage(_("API key saved"), 5000)
        self.show_main(resume=True)
        window.controller.key_changed()
        window.focus_form()
