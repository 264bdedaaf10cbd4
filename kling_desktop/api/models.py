"""The choices of a request (model, quality, orientation, the options record), the
provider's task status words and the API's limits. Pure data, no I/O.

What is sent and answered (the request body, tasks, uploaded files) is in
:mod:`kling_desktop.api.exchange`, which the window does not need to show itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kling_desktop.i18n import _

DEFAULT_BASE_URL = "https://api.foxapi.cc"
MAX_PROMPT_CHARS = 2500


class Model(StrEnum):
    V3 = "kling-v3-motion-control"
    V2_6 = "kling-v2-6-motion-control"

    @property
    def label(self) -> str:
        return {Model.V3: _("Kling V3"), Model.V2_6: _("Kling V2.6")}[self]


class Mode(StrEnum):
    STD = "std"
    PRO = "pro"

    @property
    def label(self) -> str:
        return {Mode.STD: _("Standard (720p)"), Mode.PRO: _("Pro (1080p)")}[self]

    @property
    def short_label(self) -> str:
        """The label without brackets, for small badges: "Standard 720p"."""
        return self.label.replace("(", "").replace(")", "")


class Orientation(StrEnum):
    """Whose orientation the character follows; decides the clip length limit."""

    IMAGE = "image"
    VIDEO = "video"

    @property
    def max_video_seconds(self) -> float:
        return 10.0 if self is Orientation.IMAGE else 30.0

    @property
    def label(self) -> str:
        """The form's words for it, used by every message that names the setting."""
        return {Orientation.IMAGE: _("Match the picture"),
                Orientation.VIDEO: _("Match the video")}[self]


class TaskStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"
    """A status word this app does not know; ``Task.raw_status`` keeps the provider's word."""

    @property
    def is_final(self) -> bool:
        return self in (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED)


@dataclass(frozen=True)
class GenerationOptions:
    """What the user chose besides the two inputs: ONE record from the form or the
    command line to the job, the request body and the sidecar (no layer copies it
    field by field)."""

    model: Model = Model.V3
    mode: Mode = Mode.STD
    prompt: str = ""
    orientation: Orientation = Orientation.IMAGE
    keep_original_sound: bool = True
