"""What can be done with a job row: the action ids, their labels and tips, and which
ones a job offers in its state (its buttons, then its context menu)."""

from __future__ import annotations

from kling_desktop.engine.jobs import BlockedOn, FailureKind, Job, JobState
from kling_desktop.i18n import N_, _
from kling_desktop.ui.jobs.row_state import RowState

__all__ = ["ACTION_LABELS", "FAILURE_ACTIONS", "Action", "action_label", "action_tip",
           "actions_for", "menu_actions_for"]


class Action:
    """Action ids the panel emits; the main window knows what each one does."""

    RETRY = "retry"
    TRY_NOW = "try_now"
    CANCEL = "cancel"
    OPEN_SETTINGS = "open_settings"
    TOP_UP = "top_up"
    CHOOSE_INPUTS = "choose_inputs"
    USE_LINK = "use_link"
    SEND_AGAIN = "send_again"
    PLAY = "play"                       # in the app: the Library tab's player
    OPEN_EXTERNALLY = "open_externally" # the system's video player
    SHOW_IN_FOLDER = "show_in_folder"
    REUSE = "reuse"
    COPY_DETAILS = "copy_details"


# Marked here, translated where shown: action_label().
ACTION_LABELS = {
    Action.RETRY: N_("Retry"),
    Action.TRY_NOW: N_("Try now"),
    Action.CANCEL: N_("Cancel"),
    Action.OPEN_SETTINGS: N_("Open settings"),
    Action.TOP_UP: N_("Top up"),
    Action.CHOOSE_INPUTS: N_("Choose other inputs"),
    Action.USE_LINK: N_("Use a link instead"),
    Action.SEND_AGAIN: N_("Send again…"),
    Action.PLAY: N_("Play"),
    Action.OPEN_EXTERNALLY: N_("Open in system player"),
    Action.SHOW_IN_FOLDER: N_("Show in folder"),
    Action.REUSE: N_("Use these inputs again"),
    Action.COPY_DETAILS: N_("Copy details"),
}

FAILURE_ACTIONS = {
    FailureKind.RETRYABLE: Action.RETRY,
    FailureKind.AUTH: Action.OPEN_SETTINGS,
    FailureKind.BALANCE: Action.TOP_UP,
    FailureKind.CONTENT_POLICY: Action.CHOOSE_INPUTS,
    FailureKind.UPLOAD_REFUSED: Action.USE_LINK,
    FailureKind.INVALID: Action.CHOOSE_INPUTS,
    FailureKind.PROVIDER: Action.RETRY,
    FailureKind.UNKNOWN: Action.RETRY,
}
"""A failed job's first button, by why it failed."""


def action_label(action: str) -> str:
    """A row action's label in the user's language."""
    return _(ACTION_LABELS[action])


def actions_for(job: Job, state: RowState | None = None) -> list[str]:
    """The row's buttons, most useful first."""
    state = state or RowState()
    if job.state.is_active:
        if job.blocked_on is BlockedOn.KEY:
            return [Action.OPEN_SETTINGS, Action.CANCEL]
        if job.blocked_on is BlockedOn.BALANCE:
            return [Action.TOP_UP, Action.TRY_NOW, Action.CANCEL]
        if state.offline is not None or job.blocked_on is not None:
            return [Action.TRY_NOW, Action.CANCEL]
        if state.note is not None:
            return [Action.RETRY, Action.CANCEL]
        return [Action.CANCEL]
    if job.state is JobState.COMPLETED:
        if state.gone:   # moved to the trash: nothing to play; its settings remain
            return [Action.REUSE]
        return [Action.PLAY, Action.SHOW_IN_FOLDER]
    if job.state is JobState.UNCERTAIN:
        return [Action.SEND_AGAIN]
    if job.state is JobState.FAILED:
        kind = job.error_kind or FailureKind.UNKNOWN
        primary = FAILURE_ACTIONS.get(kind, Action.RETRY)
        actions = [primary]
        if primary in (Action.OPEN_SETTINGS, Action.TOP_UP):
            actions.append(Action.RETRY)
        return actions
    return [Action.RETRY]  # expired, cancelled: generate again


def menu_actions_for(job: Job, state: RowState | None = None) -> list[str]:
    """The context menu: the row's buttons plus what is always possible."""
    actions = actions_for(job, state)
    if Action.PLAY in actions:
        actions.insert(actions.index(Action.PLAY) + 1, Action.OPEN_EXTERNALLY)
    if Action.REUSE not in actions:
        actions.append(Action.REUSE)
    actions.append(Action.COPY_DETAILS)
    return actions


def action_tip(action: str, job: Job) -> str:
    """The tooltip of a row's button: what pressing it will do for this job."""
    tips = {
        Action.RETRY: _("Send this job again with the same inputs."),
        Action.TRY_NOW: _("Try to reach the provider now instead of waiting."),
        Action.CANCEL: (_("Stop following this job. A video the provider already started "
                          "may still be billed.") if job.task_id else _("Stop this job.")),
        Action.OPEN_SETTINGS: _("Check or replace your API key."),
        Action.TOP_UP: _("Open your provider's website to add credit."),
        Action.CHOOSE_INPUTS: _("Put this job's options in the form and pick another "
                                "picture or clip."),
        Action.USE_LINK: _("Paste a public https:// link to the clip instead of uploading "
                           "it."),
        Action.SEND_AGAIN: _("The provider may already have this job; sending it again "
                             "could charge you twice."),
        Action.PLAY: _("Play the video here, in the Library tab (Enter)."),
        Action.OPEN_EXTERNALLY: _("Play the video in your computer's own video player."),
        Action.SHOW_IN_FOLDER: _("Open the folder that holds the video."),
    }
    return tips.get(action) or (action_label(action) if action in ACTION_LABELS else action)
