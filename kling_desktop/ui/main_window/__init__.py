"""The main window, one room per module.

- ``window``: the window itself: tabs, menus, wiring, start-up page, settings, closing;
- ``job_actions``: what a job's buttons do, and "use these settings again";
- ``dialogs``: the window's message boxes (ask, error, quit with running jobs, send again);
- ``state``: geometry and the form/jobs divider (window state, never user settings);
- ``user_settings``: the one settings dialog, and applying saved settings to the engine;
- ``menus``: File, View and Help, and what their commands open;
- ``jobs_frame``: the jobs panel's frame, painted first while the jobs list loads;
- ``start_up``: how the window starts (painted first, the rest right after);
- ``library_tab``: the "Library" tab's page, which builds the gallery on first visit;
- ``banner``: the strip shown while the demo runs.

Importing this package imports only what the window's first paint needs.
"""

from __future__ import annotations

from kling_desktop.ui.main_window.window import SHUTDOWN_TIMEOUT_MS, MainWindow

__all__ = ["SHUTDOWN_TIMEOUT_MS", "MainWindow"]
