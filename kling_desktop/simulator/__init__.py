"""The provider on 127.0.0.1: demo mode, tests and the ``kling-desktop simulator`` command.

Pure Python (stdlib HTTP server + python-multipart), no Qt. See ARCHITECTURE.md,
"Contract: simulator".
"""

from __future__ import annotations

from kling_desktop.simulator.config import Fault, RequestRecord, SimulatorConfig
from kling_desktop.simulator.server import Simulator, serve

__all__ = ["Fault", "RequestRecord", "Simulator", "SimulatorConfig", "serve"]
