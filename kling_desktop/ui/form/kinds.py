"""What sets the picture slot and the clip slot apart: their kind and their words."""

from __future__ import annotations

from enum import StrEnum

from kling_desktop.i18n import _, ngettext


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"


def slot_text(kind: MediaKind) -> dict[str, str]:
    """The slot's words in the user's language, whole sentences per kind (a noun slotted
    into an English sentence does not translate)."""
    if kind is MediaKind.IMAGE:
        return {
            "title": _("Character picture"),
            "formats": _("JPG or PNG"),
            "drop": _("Drop a picture of the character here"),
            "or_choose": _("or choose below"),
            "filter": _("Pictures ({patterns})").format(
                patterns="*.jpg *.jpeg *.png *.JPG *.JPEG *.PNG")
            + ";;" + _("All files ({patterns})").format(patterns="*"),
            "dialog": _("Choose character pictures"),
            "dialog_one": _("Choose a character picture"),
            "batch": _("Add more pictures (batch)"),
            # TRANSLATORS: the batch switch when the slot is narrow (its title names the kind).
            "batch_short": _("Add more (batch)"),
            "batch_tip": _("On: Choose…, drop and paste add pictures to a batch, one video "
                           "each.\nOff: a new picture replaces the one chosen."),
            "choose_name": _("Choose character picture files"),
            "choose_many": _("Add one or more JPG or PNG pictures from this computer"),
            "choose_one": _("Pick a JPG or PNG picture from this computer (replaces this one)"),
            "link_tip": _("A public link to a JPG or PNG file; press Enter to add it"),
            "link_name": _("Character picture link"),
            "add_name": _("Add character picture link"),
            "list_name": _("Chosen pictures"),
            "list_tip": _("The pictures of this batch. Select one to preview it; Delete "
                          "removes it."),
            "messages": _("Character picture messages"),
            "problems": _("Character picture problems"),
            "preview": _("Character picture preview"),
            "details": _("Character picture details"),
        }
    return {
        "title": _("Motion video"),
        "formats": _("MP4 or MOV"),
        "drop": _("Drop a clip of the movement here"),
        "or_choose": _("or choose below"),
        "filter": _("Videos ({patterns})").format(patterns="*.mp4 *.mov *.MP4 *.MOV")
        + ";;" + _("All files ({patterns})").format(patterns="*"),
        "dialog": _("Choose motion videos"),
        "dialog_one": _("Choose a motion video"),
        "batch": _("Add more clips (batch)"),
        "batch_short": _("Add more (batch)"),
        "batch_tip": _("On: Choose…, drop and paste add clips to a batch, one video each.\n"
                       "Off: a new clip replaces the one chosen."),
        "choose_name": _("Choose motion video files"),
        "choose_many": _("Add one or more MP4 or MOV clips from this computer"),
        "choose_one": _("Pick an MP4 or MOV clip from this computer (replaces this one)"),
        "link_tip": _("A public link to an MP4 or MOV file; press Enter to add it"),
        "link_name": _("Motion video link"),
        "add_name": _("Add motion video link"),
        "list_name": _("Chosen clips"),
        "list_tip": _("The clips of this batch. Select one to preview it; Delete removes it."),
        "messages": _("Motion video messages"),
        "problems": _("Motion video problems"),
        "preview": _("Motion video preview"),
        "details": _("Motion video details"),
    }


def count_text(kind: MediaKind, n: int) -> str:
    """"3 pictures", "2 clips"."""
    if kind is MediaKind.IMAGE:
        return ngettext("{n} picture", "{n} pictures", n).format(n=n)
    return ngettext("{n} clip", "{n} clips", n).format(n=n)
