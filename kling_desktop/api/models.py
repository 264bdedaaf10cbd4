"""Typed values exchanged with the provider. Pure data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

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
class UploadedFile:
    """A file accepted by ``/v1/files/upload/*``. Its ``url`` is temporary."""

    id: str
    url: str
    filename: str = ""
    size: int | None = None
    created: int | None = None


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


@dataclass(frozen=True)
class GenerationRequest:
    """The body of ``POST /v1/videos/generations``."""

    image_url: str
    video_url: str
    options: GenerationOptions = field(default_factory=GenerationOptions)

    def to_json(self) -> dict[str, Any]:
        """Optional fields are sent only when they differ from the documented defaults."""
        options = self.options
        body: dict[str, Any] = {
            "model": str(options.model),
            "image_url": self.image_url,
            "video_url": self.video_url,
            "mode": str(options.mode),
        }
        if options.prompt:
            body["prompt"] = options.prompt
        if options.orientation is Orientation.VIDEO:
            body["character_orientation"] = "video"
        if not options.keep_original_sound:
            body["keep_original_sound"] = "no"
        return body


@dataclass(frozen=True)
class TaskError:
    message: str
    code: str | None = None
    type: str | None = None

    @property
    def is_content_policy(self) -> bool:
        """A moderation refusal: the user must change the picture or the clip."""
        text = " ".join(filter(None, (self.code, self.type, self.message))).lower()
        return any(
            word in text
            for word in ("policy", "moderation", "sensitive", "inappropriate", "nsfw", "risk")
        )


UsageValue = str | int | float
"""One scalar the provider reported about what it reserved or charged."""


@dataclass(frozen=True)
class Task:
    """A provider task as last seen, every text cleaned and scrubbed of the key.

    ``raw_status``: the provider's own status word (cleaned), also when ``status``
    is :attr:`TaskStatus.UNKNOWN`. ``usage``: what the provider reports it
    reserved or charged (its ``usage`` object flattened to dotted keys, plus
    ``final_unit_deduction`` / ``cost``), at most a few scalars; None when absent.
    ``extra``: the answer's other top-level fields, scalars only, cleaned.
    """

    id: str
    status: TaskStatus
    progress: int = 0
    estimated_time: float | None = None
    result_url: str | None = None
    result_urls: tuple[str, ...] = ()
    error: TaskError | None = None
    model: str | None = None
    created: int | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    can_cancel: bool | None = None
    raw_status: str | None = None
    usage: dict[str, UsageValue] | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
