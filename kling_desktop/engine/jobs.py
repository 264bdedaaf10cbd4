"""What a job is: the user's request (JobSpec) and its durable state (Job).

Pure data shared by the store, the runner, the CLI and the window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from kling_desktop.api.models import GenerationOptions
from kling_desktop.engine.origins import Origin
from kling_desktop.i18n import N_, _
from kling_desktop.sources import display_name, title_for

RESULT_LINK_LIFETIME = 24 * 3600.0  # seconds a provider result link stays valid


class JobState(StrEnum):
    QUEUED = "queued"            # checked, waiting for a free slot
    UPLOADING = "uploading"      # local inputs being uploaded (free; redone on resume)
    SUBMITTING = "submitting"    # recorded right BEFORE the create call is sent
    SEND_WAIT = "send_wait"      # the provider said no (rate limit, no channel): send again later
    SUBMITTED = "submitted"      # task id recorded; the provider is working on it
    DOWNLOADING = "downloading"  # the provider finished; fetching the video
    COMPLETED = "completed"      # the video and its sidecar are in the library
    FAILED = "failed"            # see error_kind / error_message / error_fix
    EXPIRED = "expired"          # the result link expired before it was downloaded
    CANCELLED = "cancelled"
    UNCERTAIN = "uncertain"      # the create call may have been accepted: the user decides

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_active(self) -> bool:
        """States a runner resumes on its own."""
        return self in _ACTIVE

    @property
    def label(self) -> str:
        """The state in a few words, in the user's language (the window and the CLI)."""
        return _(_LABELS[self])


_TERMINAL = frozenset(
    {JobState.COMPLETED, JobState.FAILED, JobState.EXPIRED, JobState.CANCELLED, JobState.UNCERTAIN}
)
_ACTIVE = frozenset(
    {JobState.QUEUED, JobState.UPLOADING, JobState.SUBMITTING, JobState.SEND_WAIT,
     JobState.SUBMITTED, JobState.DOWNLOADING}
)
# Marked here, translated when shown (JobState.label).
_LABELS = {
    JobState.QUEUED: N_("Waiting"),
    JobState.UPLOADING: N_("Uploading"),
    JobState.SUBMITTING: N_("Sending"),
    JobState.SEND_WAIT: N_("Waiting to send"),
    JobState.SUBMITTED: N_("Generating"),
    JobState.DOWNLOADING: N_("Downloading"),
    JobState.COMPLETED: N_("Saved"),
    JobState.FAILED: N_("Failed"),
    JobState.EXPIRED: N_("Expired"),
    JobState.CANCELLED: N_("Cancelled"),
    JobState.UNCERTAIN: N_("Needs your decision"),
}


class BlockedOn(StrEnum):
    """Why an active job is not moving; it moves again by itself once this is fixed."""

    KEY = "key"                # no key, or the key was refused, for the job's provider
    BALANCE = "balance"        # the provider says the balance is too low
    PERMISSION = "permission"  # the key may not use this model / task
    PROVIDER = "provider"      # the provider answers, but not usefully (4xx, odd status)
    NETWORK = "network"        # the provider could not be reached
    LINK = "link"              # the result link failed; a fresh one is being fetched
    DISK = "disk"              # the library folder cannot be written


class FailureKind(StrEnum):
    RETRYABLE = "retryable"            # rate limit, no channel, network: Retry is safe
    AUTH = "auth"                      # the key was refused: open settings
    BALANCE = "balance"                # top up at the provider
    CONTENT_POLICY = "content_policy"  # change the picture or the clip; never resubmitted
    UPLOAD_REFUSED = "upload_refused"  # use a public https:// link instead of the file
    INVALID = "invalid"                # the provider refused a parameter
    PROVIDER = "provider"              # the task failed at the provider for another reason
    UNKNOWN = "unknown"                # a bug or an unexpected error (see the log)


#: Everything about a job except its two inputs: the one options record (see api.models).
JobOptions = GenerationOptions


@dataclass(frozen=True)
class JobSpec:
    """What the user asked for. ``image``/``video`` are canonical local paths or https URLs.

    ``image_origin``/``video_origin``: where an input that was trimmed or converted came
    from (the original, the span kept, what was done); None for the user's own file.
    """

    image: str
    video: str
    options: GenerationOptions = field(default_factory=GenerationOptions)
    billable_seconds: float | None = None
    batch_id: str | None = None
    image_origin: Origin | None = None
    video_origin: Origin | None = None

    @property
    def title(self) -> str:
        """The job's human title (picture, clip, the prompt's first words): see
        :func:`kling_desktop.sources.title_for`. Cards, notifications and file names use it.
        A trimmed or converted input goes by its original's name, not its copy's."""
        image = self.image_origin.name if self.image_origin else display_name(self.image)
        video = self.video_origin.name if self.video_origin else display_name(self.video)
        return title_for(image, video, self.options.prompt)


@dataclass(frozen=True)
class Job:
    """A job's durable state as stored in SQLite. Times are UNIX epoch seconds."""

    id: int
    spec: JobSpec
    state: JobState
    base_url: str
    demo: bool
    created_at: float
    updated_at: float
    task_id: str | None = None
    provider_status: str | None = None
    progress: int = 0                   # provider's 0..100
    transfer_done: int = 0              # bytes uploaded / downloaded in the current phase
    transfer_total: int = 0
    estimated_time: float | None = None
    error_kind: FailureKind | None = None
    error_code: str | None = None
    error_message: str | None = None
    error_fix: str | None = None
    submitted_at: float | None = None
    completed_at: float | None = None    # when the provider finished (as first seen)
    result_url: str | None = None
    result_expires_at: float | None = None
    output_path: str | None = None
    create_calls: int = 0                # create calls actually sent for this job
    next_poll_at: float | None = None    # not before: the next poll, send or download try
    image_url: str | None = None         # uploaded inputs, reused by a later send try
    video_url: str | None = None
    uploaded_at: float | None = None
    blocked_on: BlockedOn | None = None  # why an active job waits
    download_attempts: int = 0
    result_duration: float | None = None  # seconds of the saved video (may be < the clip)
    model_used: str | None = None         # the model the provider says it used
    provider_usage: str | None = None     # JSON object of what the provider reports it charged
