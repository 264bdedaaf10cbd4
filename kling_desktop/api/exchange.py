"""What is sent to the provider and what it answers: the request body, an uploaded
file, a task as last seen and its error. Pure data, no I/O.

Only the engine's work with the provider (the client, the parsers, the steps of a job)
needs these: the window's form and settings need only :mod:`kling_desktop.api.models`,
so these four frozen dataclasses (~1 ms each for Python 3.11 to make) are not made
before the window's first paint (``kling_desktop.api`` loads this module on first use).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kling_desktop.api.models import GenerationOptions, Orientation, TaskStatus


@dataclass(frozen=True)
class UploadedFile:
    """A file accepted by ``/v1/files/upload/*``. Its ``url`` is temporary."""

    id: str
    url: str
    filename: str = ""
    size: int | None = None
    created: int | None = None


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
