"""Kling Motion Studio: animate a character picture with the motion of a reference video.

Layers (enforced by import-linter, see pyproject.toml):

- ``kling_desktop.paths``      every file location, honours ``KLING_DATA_DIR``
- ``kling_desktop.api``        typed HTTP client for the provider (httpx, no Qt)
- ``kling_desktop.simulator``  a local provider on loopback (demo mode, tests)
- ``kling_desktop.engine``     input checks, job store, runner, library (no Qt)
- ``kling_desktop.cli``        the headless command line
- ``kling_desktop.ui``         the only home of widgets
"""

__version__ = "0.1.0"
APP_NAME = "Kling Motion Studio"
APP_ID = "kling-desktop"
