"""The words for a file of the wrong kind: what it is, what was asked for, what to do."""

from __future__ import annotations

from pathlib import Path

from kling_desktop.engine.media.reading import IMAGE_FORMATS, VIDEO_CONTAINERS, MediaError
from kling_desktop.sniff import STILL_IMAGES, VIDEOS, describe_format, kind_from_extension

__all__ = ["format_refusal"]


def format_refusal(path: Path, kind: str | None, *, want: str) -> MediaError:
    """``want`` is "image" or "video": what the user was asked for."""
    ext = path.suffix
    claimed = kind_from_extension(ext)
    if kind is None:
        if claimed in IMAGE_FORMATS or claimed in VIDEO_CONTAINERS:
            message = (
                f"This file's name ends in {path.suffix}, but its content is not "
                f"{describe_format(claimed)}; it may be damaged."
            )
        else:
            message = "This file is not a kind of file the app recognises."
        if want == "image":
            return MediaError(message, "Open it in an image editor and save it as PNG or JPG.",
                              kind="format")
        return MediaError(message, "Export the clip again as MP4.", kind="format")

    renamed = claimed is not None and claimed != kind and not (
        {claimed, kind} <= set(VIDEO_CONTAINERS)
    )
    although = f", although its name ends in {path.suffix}" if renamed else ""

    def refuse(clause: str, fix: str, note: str = "") -> MediaError:
        text = f"This file is {describe_format(kind)}{clause}{although}{note}."
        return MediaError(text, fix, kind="format", detected=kind)

    if want == "image":
        if kind in VIDEOS:
            return refuse(", not a picture", "Pick a PNG or JPG picture of your character.")
        if kind == "html":
            return refuse(", not the picture itself",
                          "Open the page in your browser, right-click the picture and choose "
                          "\"Save image as\", then pick the saved file.")
        if kind == "gif":
            return refuse("", "Save it as PNG or JPG.")
        if kind == "heic":
            return refuse("", "Save a copy as JPG (Photos on Mac and Windows can export JPG), "
                          "then pick it.", "; the service takes PNG or JPG pictures only")
        if kind in STILL_IMAGES:
            return refuse("", "Save it as PNG or JPG in an image editor, then pick the saved file.",
                          "; the service takes PNG or JPG pictures only")
        return refuse("", "Pick a PNG or JPG picture of your character.")

    if kind in STILL_IMAGES:
        return refuse(", not a video", "Pick an MP4 or MOV clip for the motion.")
    if kind in VIDEOS:
        return refuse(
            "",
            "Convert it to MP4 (for example with HandBrake or VLC), then pick the converted file.",
            "; the service takes MP4 or MOV clips only",
        )
    if kind == "html":
        return refuse(", not the video itself", "Download the video file itself, then pick it.")
    return refuse(", not a video", "Pick an MP4 or MOV clip for the motion.")
