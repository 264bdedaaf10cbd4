"""Where a converted input came from (engine.origins): the note in words, the JSON a job row
and a sidecar keep, hostile values left out, and a copy of a copy."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kling_desktop.engine.origins import (
    MAX_NAME,
    MAX_SECONDS,
    Origin,
    origin_from_text,
    origin_text,
)

TRIMMED = Origin("motion.webm", "/clips/motion.webm", (2.0, 9.5), "webm", ("scaled_down",))


def test_the_note_says_what_was_done_in_words() -> None:
    assert TRIMMED.note == "trimmed 2.0–9.5 s, converted from WebM, scaled down"
    assert Origin("banner.png", steps=("padded",)).note == "padded"
    assert Origin("a.mp4").note == "converted"
    assert TRIMMED.source == "/clips/motion.webm"
    assert Origin("a.mp4").source == "a.mp4"          # the name, when no path is known


def test_the_json_a_row_keeps_reads_back_the_same() -> None:
    assert Origin.from_json(TRIMMED.to_json()) == TRIMMED
    assert origin_from_text(origin_text(TRIMMED)) == TRIMMED
    assert origin_text(None) is None
    assert origin_from_text(None) is None
    for garbage in ("", "{", "[1, 2]", '"text"', "null", "x" * 100_000):
        assert origin_from_text(garbage) is None      # never an exception


def test_of_file_keeps_a_name_with_control_characters_readable() -> None:
    origin = Origin.of_file("/clips/two\nlines.mp4", trim=(0.0, 4.0))
    assert origin.name == "two?lines.mp4"
    assert origin.path is None                        # not the named file: not trusted
    assert origin.trim == (0.0, 4.0)
    odd = Origin.of_file("/clips/caf\udce9.mp4")      # not UTF-8 on disk
    assert odd.name == "caf?.mp4"
    assert odd.path is None


GOOD: dict[str, Any] = TRIMMED.to_json()

# Each change spoils one value; the origin is kept without it (or dropped when no usable
# name is left), never an exception.
LEFT_OUT: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "in after out": ({"trim": [9.5, 2.0]}, {"trim": None}),
    "in equal to out": ({"trim": [3, 3]}, {"trim": None}),
    "a negative in": ({"trim": [-1.0, 3.0]}, {"trim": None}),
    "a span of years": ({"trim": [0, MAX_SECONDS + 1]}, {"trim": None}),
    "a huge integer": ({"trim": [0, 10**400]}, {"trim": None}),
    "a NaN": ({"trim": [0, float("nan")]}, {"trim": None}),
    "an infinity": ({"trim": [0, float("inf")]}, {"trim": None}),
    "numbers as text": ({"trim": ["1", "2"]}, {"trim": None}),
    "a bool": ({"trim": [False, 2]}, {"trim": None}),
    "one number": ({"trim": [1.0]}, {"trim": None}),
    "three numbers": ({"trim": [1.0, 2.0, 3.0]}, {"trim": None}),
    "a span as an object": ({"trim": {"in": 1, "out": 2}}, {"trim": None}),
    "a relative path": ({"path": "clips/motion.webm"}, {"path": None}),
    "a link as the path": ({"path": "https://example.com/motion.webm"}, {"path": None}),
    "a file:// path": ({"path": "file:///clips/motion.webm"}, {"path": None}),
    "a path to another file": ({"path": "/etc/passwd"}, {"path": None}),
    "a path with a NUL": ({"path": "/clips/\x00/motion.webm"}, {"path": None}),
    "a path too long": ({"path": "/" + "d/" * 3000 + "motion.webm"}, {"path": None}),
    "a path as a number": ({"path": 5}, {"path": None}),
    "a lone surrogate in the path": ({"path": "/clips\ud800/motion.webm"}, {"path": None}),
    "an unknown format": ({"from_format": "exe"}, {"from_format": None}),
    "a format as a list": ({"from_format": ["webm"]}, {"from_format": None}),
    "unknown steps": ({"steps": ["scaled_down", "deleted_everything", {"x": 1}]},
                      {"steps": ["scaled_down"]}),
    "steps as text": ({"steps": "scaled_down"}, {"steps": []}),
}


@pytest.mark.parametrize(("change", "expected"), LEFT_OUT.values(), ids=LEFT_OUT.keys())
def test_an_unusable_value_is_left_out(change: dict[str, Any],
                                       expected: dict[str, Any]) -> None:
    origin = Origin.from_json({**GOOD, **change})
    assert origin is not None
    assert origin.to_json() == {**GOOD, **expected}


@pytest.mark.parametrize("name", ["", ".", "..", "a/b.mp4", "a\\b.mp4", "x" * (MAX_NAME + 1),
                                  "tab\there.mp4", "nul\x00.mp4", 5, None, ["a.mp4"],
                                  "\ud800.mp4"])
def test_an_origin_without_a_usable_name_is_none(name: object) -> None:
    assert Origin.from_json({**GOOD, "name": name, "path": None}) is None


@pytest.mark.parametrize("data", [[], "motion.mp4", 5, True])
def test_an_origin_that_is_not_an_object_is_refused(data: object) -> None:
    with pytest.raises(ValueError, match="origin is not an object"):
        Origin.from_json(data)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(key=st.sampled_from(["name", "path", "trim", "from_format", "steps"]),
       value=JSON_VALUES)
def test_any_value_reads_as_a_bounded_origin_or_none(key: str, value: object) -> None:
    origin = Origin.from_json({**GOOD, key: value})
    if origin is None:
        return
    assert 0 < len(origin.name) <= MAX_NAME
    if origin.trim is not None:
        start, end = origin.trim
        assert 0 <= start < end <= MAX_SECONDS
    json.dumps(origin.to_json(), allow_nan=False).encode("utf-8")
    assert origin.note                                 # said in words, whatever was read


def test_a_copy_of_a_copy_still_comes_from_the_first_original() -> None:
    first = Origin("motion.webm", "/clips/motion.webm", (2.0, 9.5), "webm")
    # the copy trimmed again (the original was gone): the span moves onto the original
    again = first.then(Origin("motion 2-9.5s.mp4", "/lib/motion 2-9.5s.mp4", (1.0, 5.0),
                              steps=("made_smaller",)))
    assert again == Origin("motion.webm", "/clips/motion.webm", (3.0, 7.0), "webm",
                           ("made_smaller",))
    # the copy converted without a cut: the first span stays
    assert first.then(Origin("x.mp4", "/lib/x.mp4", steps=("scaled_down",))).trim == (2.0, 9.5)
    # the editor reopened on the original: its new span replaces the old one
    retrimmed = Origin("motion.webm", "/clips/motion.webm", (4.0, 8.0), "webm")
    assert first.then(retrimmed) == retrimmed


def test_a_job_is_titled_after_the_originals_not_the_converted_copies() -> None:
    """Cards, notifications and result file names read "character + TikTok dance", not
    the name of the copy the trim editor wrote ("TikTok dance 2-9.5s")."""
    from kling_desktop.api.models import GenerationOptions
    from kling_desktop.engine.jobs import JobSpec

    spec = JobSpec(image="/lib/.inputs/converted/banner padded.png",
                   video="/lib/.inputs/converted/TikTok dance 2-9.5s.mp4",
                   options=GenerationOptions(),
                   image_origin=Origin("banner.png", "/pics/banner.png", steps=("padded",)),
                   video_origin=Origin("TikTok dance.mp4", "/clips/TikTok dance.mp4",
                                       (2.0, 9.5)))
    assert "TikTok dance" in spec.title
    assert "2-9.5s" not in spec.title
    assert "banner" in spec.title
    assert "padded" not in spec.title
    plain = JobSpec(image="/pics/hero.png", video="/clips/walk.mp4")
    assert "hero" in plain.title
    assert "walk" in plain.title
