"""How a saved result reads in words: its title, badges, labels, length, dates and tooltip.

Model, mode and orientation names come from :mod:`kling_desktop.api.models`
(``Model.label``, ``Mode.label``, ``Orientation.label``); the grid, the filter bar
and the detail pane only shorten or extend them here, so they never drift apart.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QDateTime, QLocale

from kling_desktop.api.models import Mode, Model, Orientation
from kling_desktop.engine.library import InputRef
from kling_desktop.engine.store import ResultRecord
from kling_desktop.i18n import _
from kling_desktop.ui.widgets import format_seconds

# A model's version as a badge shows it: a name, the same in every language.
_MODEL_BADGES = {Model.V3: "V3", Model.V2_6: "V2.6"}


def label_of(kind: type[Model] | type[Mode] | type[Orientation], value: str | None) -> str:
    """The label of a stored id (``"std"`` -> "Standard (720p)"); an unknown id as it is."""
    if value is None:
        return ""
    try:
        return kind(value).label
    except ValueError:
        return value


def plain_label(label: str) -> str:
    """A label without its detail in brackets: "Standard (720p)" -> "Standard" (Chinese
    brackets too)."""
    return label.partition(" (")[0].partition("（")[0].strip()


def model_badge(model: str | None) -> str:
    """Short label for a model id: "V3", "V2.6" (or the raw id for an unknown one)."""
    if model is None:
        return ""
    try:
        return _MODEL_BADGES[Model(model)]
    except ValueError:
        return model


def mode_badge(mode: str | None) -> str:
    """Short label for a mode id: "Std", "Pro" (in the user's language)."""
    if mode is None:
        return ""
    try:
        known = Mode(mode)
    except ValueError:
        return mode
    return _("Std") if known is Mode.STD else _("Pro")


def describe_orientation(value: str | None) -> str:
    """"Match the picture (clips up to 10 s)"; an unknown value as it is."""
    try:
        orientation = Orientation(value or "")
    except ValueError:
        return value or "—"
    return _("{orientation} (clips up to {seconds} s)").format(
        orientation=orientation.label, seconds=f"{orientation.max_video_seconds:g}")


def format_duration(seconds: float | None) -> str:
    """A video's length: "5.2 s" (the window's one way to write seconds), a clock from a
    minute on ("1:05")."""
    if seconds is None or seconds < 0:
        return ""
    whole = round(seconds)
    if seconds < 60:
        return format_seconds(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def format_date(epoch: float | None) -> str:
    """Short, for the grid and the job cards, in the user's own way: the locale's short
    date and time ("01/03/2025 14:05", "3/1/25 2:05 PM")."""
    if epoch is None:
        return ""
    try:
        moment = QDateTime.fromMSecsSinceEpoch(round(epoch * 1000))
    except (OverflowError, ValueError):
        return ""
    if not moment.isValid():
        return ""
    return QLocale().toString(moment, QLocale.FormatType.ShortFormat)


def format_moment(epoch: float | None) -> str:
    """Long, for the detail pane, as the user's locale writes it: "Monday, March 3, 2025
    at 2:05 PM", "2025年3月3日星期一 14:05"."""
    if epoch is None:
        return "—"
    try:
        moment = QDateTime.fromMSecsSinceEpoch(round(epoch * 1000))
    except (OverflowError, ValueError):
        return "—"
    if not moment.isValid():
        return "—"
    locale = QLocale()
    return _("{date} at {time}").format(
        date=locale.toString(moment.date(), QLocale.FormatType.LongFormat),
        time=locale.toString(moment.time(), QLocale.FormatType.ShortFormat))


def title_of(record: ResultRecord) -> str:
    """What the item is called everywhere: its human title (picture, clip, the prompt's
    first words; see ``ResultRecord.title``), else its file name."""
    return record.title


def inputs_of(record: ResultRecord) -> str:
    """"hero.png + dance.mp4" (what the title shortens), or "" when unknown."""
    return " + ".join(name for name in record.input_names if name)


def tooltip(record: ResultRecord) -> str:
    lines = [title_of(record)]
    if record.prompt.strip() and record.prompt.strip() not in lines[0]:
        lines.append(" ".join(record.prompt.split())[:300])
    if inputs_of(record):
        lines.append(inputs_of(record))
    if not record.sidecar_ok:
        lines.append(_("Its description file is missing or unreadable; the video is kept."))
    details = " · ".join(part for part in (
        model_badge(record.model), mode_badge(record.mode), format_duration(record.duration),
        format_date(record.saved_at)) if part)
    if details:
        lines.append(details)
    lines.append(Path(record.video_rel).name)
    return "\n".join(lines)


def accessible_text(record: ResultRecord) -> str:
    parts = [title_of(record)]
    if record.mark:
        parts.append(_("keeper") if record.mark == "keeper" else _("rejected"))
    if record.demo:
        parts.append(_("demo"))
    if not record.sidecar_ok:
        parts.append(_("description unreadable"))
    parts.append(format_duration(record.duration))
    # TRANSLATORS: joins the facts a screen reader says of one result.
    return _(", ").join(p for p in parts if p)


def input_name(ref: InputRef) -> str:
    """An input as the detail pane names it: its file, or for a trimmed or converted one
    the original's name and what was done ("motion.mp4 — trimmed 2.0–9.5 s")."""
    if ref.origin is None:
        return ref.name
    # TRANSLATORS: an input of a saved result: the original file's name, then what was
    # done to it before it was sent ("motion.mp4 — trimmed 2.0–9.5 s").
    return _("{name} — {note}").format(name=ref.origin.name, note=ref.origin.note)


def input_tip(ref: InputRef, kept: Path | None) -> str:
    """Where an input is: its link, its kept copy or its name; and its original."""
    where = ref.url or (str(kept) if kept else ref.name)
    if ref.origin is None:
        return where
    return _("{path}\n{note}, from {original}").format(
        path=where, note=ref.origin.note, original=ref.origin.source)
