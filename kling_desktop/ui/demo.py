"""Demo mode: the real app against the project's simulator, in this process.

``DemoSession`` starts the simulator on a free loopback port (any key accepted,
a little latency and a few polls so progress is visible), builds an
``Engine(demo_base_url=...)`` whose jobs are marked demo, and knows the sample
inputs the form starts with. Every demo job's result is the sample result (the
sample character dancing the sample motion), whatever was chosen: the demo shows
what the app makes without making anything. Nothing leaves the computer and
nothing is billed.
Demo tasks live in the simulator's memory: they end with the session.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from kling_desktop.engine.runner import Engine
from kling_desktop.engine.settings import Settings, load_settings
from kling_desktop.i18n import N_
from kling_desktop.paths import AppPaths, app_paths, sample_character, sample_motion
from kling_desktop.simulator import Simulator, SimulatorConfig

log = logging.getLogger(__name__)

DEMO_POLLS_UNTIL_DONE = 5
DEMO_LATENCY = 0.15          # seconds per API call: progress is visible, waits stay short
DEMO_ESTIMATED_TIME = 8      # what the simulator says a task takes (seconds)
# Shown in the user's language where it is used: _(DEMO_BANNER).
DEMO_BANNER = N_("Demo mode — nothing is sent to a provider or billed.")


class DemoSession:
    """A running simulator plus what the window needs to use it."""

    def __init__(self, *, polls_until_done: int = DEMO_POLLS_UNTIL_DONE,
                 latency: float = DEMO_LATENCY, estimated_time: int = DEMO_ESTIMATED_TIME,
                 download_bytes_per_second: float | None = None) -> None:
        self.config = SimulatorConfig(
            api_key=None, polls_until_done=polls_until_done, latency=latency,
            estimated_time=estimated_time, download_bytes_per_second=download_bytes_per_second,
            demo_result=True)
        self._simulator: Simulator | None = None

    def start(self) -> DemoSession:
        if self._simulator is None:
            self._simulator = Simulator(self.config).start()
        return self

    def stop(self) -> None:
        simulator, self._simulator = self._simulator, None
        if simulator is not None:
            simulator.stop()

    def __enter__(self) -> DemoSession:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._simulator is not None

    @property
    def simulator(self) -> Simulator:
        if self._simulator is None:
            raise RuntimeError("the demo session is not running")
        return self._simulator

    @property
    def base_url(self) -> str:
        return self.simulator.base_url

    @staticmethod
    def settings_for_demo(settings: Settings) -> Settings:
        """The user's settings, paced for a simulator that answers in seconds. (The
        window always shows the confirmation in the demo, marked as one.)"""
        return dataclasses.replace(settings, poll_min_interval=0.4, poll_max_interval=1.5)

    def create_engine(self, *, paths: AppPaths | None = None,
                      settings: Settings | None = None) -> Engine:
        """An engine whose jobs go to this session's simulator and are marked demo."""
        paths = paths or app_paths()
        if settings is None:
            settings = load_settings(paths.settings_file)
        return Engine(paths=paths, settings=self.settings_for_demo(settings),
                      demo_base_url=self.base_url)

    @staticmethod
    def sample_inputs() -> tuple[list[str], list[str]]:
        """The sample character and motion clip the demo form starts with (if bundled)."""
        images = [str(p) for p in (sample_character(),) if Path(p).is_file()]
        videos = [str(p) for p in (sample_motion(),) if Path(p).is_file()]
        return images, videos
