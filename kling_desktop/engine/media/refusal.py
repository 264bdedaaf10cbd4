"""The words for a file of the wrong kind: what it is, what was asked for, what to do."""

from __future__ import annotations

from pathlib import Path

from kling_desktop.engine.media.reading import IMAGE_FORMATS, VIDEO_CONTAINERS, MediaError
from kling_desktop.i18n import _
from kling_desktop.sniff import STILL_IMAGES, VIDEOS, describe_format, kind_from_extension

__all__ = ["format_refusal"]


def format_refusal(path: Path, kind: str | None, *, want: str) -> MediaError:
    """``want`` is "image" or "video": what the user was asked for."""
    ext = path.suffix
    claimed = kind_from_extension(ext)
    if kind is None:
        if claimed in IMAGE_FORMATS or claimed in VIDEO_CONTAINERS:
            message = _(
                "This file's name ends in {ext}, but its content is not {format}; it may be "
                "damaged.").format(ext=path.suffix, format=describe_format(claimed))
        else:
            message = _("This file is not a kind of file the app recognises.")
        if want == "image":
            return MediaError(message, _("Open it in an image editor and save it as PNG or JPG."),
                              kind="format")
        return MediaError(message, _("Export the clip again as MP4."), kind="format")

    renamed = claimed is not None and claimed != kind and not (
        {claimed, kind} <= set(VIDEO_CONTAINERS)
    )
    # TRANSLATORS: appended to "This file is {format}{clause}{although}{note}."
    although = (_(", although its name ends in {ext}").format(ext=path.suffix)
                if renamed else "")

    def refuse(clause: str, fix: str, note: str = "") -> MediaError:
        # TRANSLATORS: {format} is e.g. "a GIF image"; {clause}, {although} and {note} are
        # the optional parts that follow, each with its own leading punctuation.
        text = _("This file is {format}{clause}{although}{note}.").format(
            format=describe_format(kind), clause=clause, although=although, note=note)
        return MediaError(text, fix, kind="format", detected=kind)

    only_pictures = _("; the service takes PNG or JPG pictures only")
    if want == "image":
        if kind in VIDEOS:
            return refuse(_(", not a picture"), _("Pick a PNG or JPG picture of your character."))
        if kind == "html":
            return refuse(_(", not the picture itself"),
                          _("Open the page in your browser, right-click the picture and choose "
                            "\"Save image as\", then pick the saved file."))
        if kind == "gif":
            return refuse("", _("Save it as PNG or JPG."))
        if kind == "heic":
            return refuse("", _("Save a copy as JPG (Photos on Mac and Windows can export JPG), "
                                "then pick it."), only_pictures)
        if kind in STILL_IMAGES:
            return refuse("", _("Save it as PNG or JPG in an image editor, then pick the saved "
                                "file."), only_pictures)
        return refuse("", _("Pick a PNG or JPG picture of your character."))

    if kind in STILL_IMAGES:
        return refuse(_(", not a video"), _("Pick an MP4 or MOV clip for the motion."))
    if kind in VIDEOS:
        return refuse(
            "",
            _("Convert it to MP4 (for example with HandBrake or VLC), then pick the converted "
              "file."),
            _("; the service takes MP4 or MOV clips only"),
        )
    if kind == "html":
        return refuse(_(", not the video itself"),
                      _("Download the video file itself, then pick it."))
    return refuse(_(", not a video"), _("Pick an MP4 or MOV clip for the motion."))
