"""What sets the picture slot and the clip slot apart: their kind and their words."""

from __future__ import annotations

from enum import StrEnum


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"


SLOT_TEXT = {
    MediaKind.IMAGE: {
        "title": "Character picture",
        "formats": "JPG or PNG",
        "drop": "Drop a picture of the character here",
        "filter": "Pictures (*.jpg *.jpeg *.png *.JPG *.JPEG *.PNG);;All files (*)",
        "dialog": "Choose character pictures",
        "dialog_one": "Choose a character picture",
        "one": "picture",
        "many": "pictures",
    },
    MediaKind.VIDEO: {
        "title": "Motion video",
        "formats": "MP4 or MOV",
        "drop": "Drop a clip of the movement here",
        "filter": "Videos (*.mp4 *.mov *.MP4 *.MOV);;All files (*)",
        "dialog": "Choose motion videos",
        "dialog_one": "Choose a motion video",
        "one": "clip",
        "many": "clips",
    },
}
