"""The provider's answers -> typed models: every documented shape, and no crash on any input."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kling_desktop.api import (
    MalformedResponseError,
    Task,
    TaskStatus,
    parse_error_body,
    parse_task,
    parse_uploaded_file,
    validate_id,
)

URL = "https://cdn.example.com/out.mp4"
URL2 = "https://cdn.example.com/out-2.mp4"


def task(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "created": 1757165031,
        "id": "task-unified-1757165031-uyujaw3d",
        "model": "kling-v3-motion-control",
        "object": "video.generation.task",
        "progress": 0,
        "status": "pending",
        "task_info": {"can_cancel": True, "estimated_time": 45},
        "type": "video",
        "usage": {"billing": 5},
    }
    base.update(fields)
    return base


# ------------------------------------------------------------------ documented shapes


def test_created_task_answer_from_the_contract() -> None:
    parsed = parse_task(task())
    assert parsed.id == "task-unified-1757165031-uyujaw3d"
    assert parsed.status is TaskStatus.PENDING
    assert parsed.progress == 0
    assert parsed.estimated_time == 45
    assert parsed.can_cancel is True
    assert parsed.model == "kling-v3-motion-control"
    assert parsed.created == 1757165031
    assert parsed.result_url is None
    assert parsed.error is None
    assert parsed.extra == {"object": "video.generation.task", "type": "video"}
    assert parsed.usage == {"billing": 5}
    assert parsed.raw_status == "pending"


def test_results_as_strings() -> None:
    parsed = parse_task(task(status="completed", progress=100, results=[URL, URL2]))
    assert parsed.result_url == URL
    assert parsed.result_urls == (URL, URL2)


def test_results_as_objects() -> None:
    parsed = parse_task(
        task(status="completed", results=[{"url": URL, "width": 1280, "height": 720}])
    )
    assert (parsed.result_url, parsed.width, parsed.height) == (URL, 1280, 720)


def test_output_object() -> None:
    parsed = parse_task(task(status="completed", output={
        "url": URL, "urls": [URL, URL2], "duration": 5, "width": 1920, "height": 1080}))
    assert parsed.result_url == URL
    assert parsed.result_urls == (URL, URL2)
    assert (parsed.duration, parsed.width, parsed.height) == (5.0, 1920, 1080)


def test_completed_without_progress_counts_as_100() -> None:
    answer = task(status="completed", results=[URL])
    del answer["progress"]
    assert parse_task(answer).progress == 100


def test_wrapped_in_data_object() -> None:
    assert parse_task({"code": 0, "data": task(status="processing")}).status is (
        TaskStatus.PROCESSING
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(-5, 0), (0, 0), (42, 42), (42.6, 43), (250, 100), ("55", 55), (" 12.4 ", 12),
     ("abc", 0), (None, 0), (True, 0), (float("nan"), 0), (float("inf"), 0), ("1e999", 0),
     (10**400, 0)],
)
def test_progress_is_clamped_and_lenient(raw: object, expected: int) -> None:
    assert parse_task(task(status="processing", progress=raw)).progress == expected


@pytest.mark.parametrize("status", ["PENDING", " processing ", "Cancelled", "failed"])
def test_status_is_case_insensitive(status: str) -> None:
    assert parse_task(task(status=status)).status.value == status.strip().lower()


@pytest.mark.parametrize(
    "answer",
    [
        None, [], "task", 3, {},
        task(status=None), task(status=7), task(status=" \u202e "),
        task(id=""), task(id=None), task(id=["x"]), task(id=".."), task(id="a/b"),
    ],
)
def test_unusable_answers_are_malformed(answer: object) -> None:
    with pytest.raises(MalformedResponseError):
        parse_task(answer)


@pytest.mark.parametrize(
    "answer",
    [task(status="completed"),
     task(status="completed", results=["ftp://x/out.mp4", {"url": 3}], output="nope")],
)
def test_completed_without_a_usable_link_has_none(answer: object) -> None:
    parsed = parse_task(answer)
    assert parsed.status is TaskStatus.COMPLETED
    assert parsed.result_url is None


def test_unknown_status_is_kept() -> None:
    parsed = parse_task(task(status="queued"))
    assert parsed.status is TaskStatus.UNKNOWN
    assert parsed.raw_status == "queued"


def test_failed_task_keeps_message_code_and_type() -> None:
    parsed = parse_task(task(status="failed", error={
        "code": "content_policy_violation", "message": "Sensitive content", "type": "task_error"}))
    assert parsed.error is not None
    assert parsed.error.message == "Sensitive content"
    assert parsed.error.code == "content_policy_violation"
    assert parsed.error.type == "task_error"
    assert parsed.error.is_content_policy


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"error": {"code": 1301}, "task_status_msg": "Kling says no"}, "Kling says no"),
        ({"task_status_msg": "", "fail_reason": "upstream timeout"}, "upstream timeout"),
        ({"error": "plain string reason"}, "plain string reason"),
        ({"error": {"message": "  "}, "fail_reason": "fallback"}, "fallback"),
    ],
)
def test_failure_reason_fallbacks(fields: dict[str, Any], message: str) -> None:
    parsed = parse_task(task(status="failed", **fields))
    assert parsed.error is not None
    assert parsed.error.message == message


def test_failed_without_any_reason_names_the_task() -> None:
    parsed = parse_task(task(status="failed", error=None))
    assert parsed.error is not None
    assert "task-unified-1757165031-uyujaw3d" in parsed.error.message
    coded = parse_task(task(status="failed", error={"code": 42}))
    assert coded.error is not None
    assert coded.error.code == "42"


def test_cancelled_is_final_without_error() -> None:
    parsed = parse_task(task(status="cancelled"))
    assert parsed.status.is_final
    assert parsed.error is None


def test_long_messages_are_one_trimmed_line() -> None:
    parsed = parse_task(task(status="failed", error={"message": "line one\nline two " * 500}))
    assert parsed.error is not None
    assert "\n" not in parsed.error.message
    assert len(parsed.error.message) <= 1000


# ------------------------------------------------------------------ uploads and errors


def test_uploaded_file() -> None:
    uploaded = parse_uploaded_file({"id": "file-1", "filename": "photo.png",
                                    "url": "https://x/photo.png", "size": 204800,
                                    "created": 1757165031, "extra": True})
    assert uploaded.id == "file-1"
    assert uploaded.url == "https://x/photo.png"
    assert (uploaded.filename, uploaded.size, uploaded.created) == ("photo.png", 204800,
                                                                     1757165031)


@pytest.mark.parametrize("answer", [None, {}, {"url": ""}, {"url": 5}, {"id": "file-1"}, [1]])
def test_uploaded_file_without_link_is_malformed(answer: object) -> None:
    with pytest.raises(MalformedResponseError):
        parse_uploaded_file(answer)


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b'{"error": {"message": "bad key", "type": "authentication_error", "code": 401}}',
         "application/json", ("bad key", "authentication_error", "401")),
        (b'{"error": "plain"}', "application/json", ("plain", None, None)),
        (b'{"message": "top level", "code": "x"}', None, ("top level", None, "x")),
        (b'{"detail": "fastapi style"}', None, ("fastapi style", None, None)),
        (b"", None, (None, None, None)),
        (b"   ", "application/json", (None, None, None)),
        (b'{"error": {"message": "cut sh', "application/json", (None, None, None)),
        (b"<html><head><title>502 Bad  Gateway</title></head><body>nginx</body></html>",
         "text/html", ("502 Bad Gateway", None, None)),
        (b"<html><body>no title</body></html>", "text/html", (None, None, None)),
        (b"upstream connect error\nmore", "text/plain", ("upstream connect error", None, None)),
        (b"\xff\xfe\x00garbage", None, ("\ufffd\ufffd garbage", None, None)),
        (b"[1, 2]", "application/json", (None, None, None)),
        (b'"just a string"', "application/json", ("just a string", None, None)),
    ],
)
def test_parse_error_body(
    body: bytes, content_type: str | None, expected: tuple[str | None, ...]
) -> None:
    assert parse_error_body(body, content_type) == expected


# ------------------------------------------------------------------ properties

json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    | st.sampled_from(["completed", "failed", "pending", "https://x/y.mp4", "50", "nan", "1e999"])
)
task_keys = st.sampled_from(
    ["id", "status", "progress", "task_info", "results", "output", "error", "url", "urls",
     "width", "height", "duration", "estimated_time", "message", "code", "type", "data",
     "task_status_msg", "fail_reason", "created", "can_cancel", "model"]
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(task_keys | st.text(max_size=8), children, max_size=6),
    max_leaves=30,
)
valid_tasks = st.sampled_from([
    task(),
    task(status="completed", results=[URL]),
    task(status="completed", results=[{"url": URL, "width": 640, "height": 480}]),
    task(status="completed", output={"url": URL, "urls": [URL2], "duration": 5}),
    task(status="failed", error={"code": "x", "message": "y", "type": "task_error"}),
    task(status="failed", task_status_msg="reason"),
    {"data": task(status="processing", progress="40")},
])


def _assert_parses_or_malformed(data: object) -> None:
    try:
        parsed = parse_task(data)
    except MalformedResponseError:
        return
    assert isinstance(parsed, Task)
    assert 0 <= parsed.progress <= 100
    assert parsed.id
    assert validate_id(parsed.id, what="task id") == parsed.id
    if parsed.result_url is not None:
        assert parsed.result_url.startswith(("https://", "http://"))
    if parsed.status is TaskStatus.UNKNOWN:
        assert parsed.raw_status
    if parsed.status is TaskStatus.FAILED:
        assert parsed.error is not None
        assert parsed.error.message


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(json_values)
def test_any_json_value_parses_or_is_malformed(data: object) -> None:
    _assert_parses_or_malformed(data)


def _mutate(data: Any, path: list[int], value: object, delete: bool) -> None:
    """Replace (or delete) one nested entry, chosen by ``path`` indexes."""
    node = data
    for step in path:
        if isinstance(node, dict) and node:
            key = sorted(node)[step % len(node)]
            child = node[key]
            if isinstance(child, dict | list) and child and step % 3:
                node = child
                continue
            if delete:
                del node[key]
            else:
                node[key] = value
            return
        if isinstance(node, list) and node:
            node[step % len(node)] = value
            return


@settings(max_examples=500, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(valid_tasks, st.lists(st.integers(0, 50), min_size=1, max_size=4), json_values,
       st.booleans())
def test_mutated_valid_tasks_parse_or_are_malformed(
    valid: dict[str, Any], path: list[int], value: object, delete: bool
) -> None:
    data = copy.deepcopy(valid)
    _mutate(data, path, value, delete)
    _assert_parses_or_malformed(data)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(json_values)
def test_uploaded_file_parses_or_is_malformed(data: object) -> None:
    try:
        uploaded = parse_uploaded_file(data)
    except MalformedResponseError:
        return
    assert uploaded.url.startswith(("https://", "http://"))


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()),
       st.sampled_from([None, "application/json", "text/html", "text/plain", ""]))
def test_error_bodies_never_crash(body: bytes, content_type: str | None) -> None:
    fields = parse_error_body(body, content_type)
    assert all(f is None or (isinstance(f, str) and f and "\n" not in f) for f in fields)
    for cut in (1, len(body) // 2):
        parse_error_body(body[:cut], content_type)
