"""Turn the provider's JSON into typed models, defensively.

Every public function here either returns its model or raises
:class:`MalformedResponseError`; nothing else escapes, whatever the input.
Fields the app needs (task id, status, the video link of a completed task) are
required; hints (progress, sizes, estimated time) are dropped when unreadable.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from kling_desktop.api.errors import MalformedResponseError
from kling_desktop.api.models import Task, TaskError, TaskStatus, UploadedFile

__all__ = ["parse_error_body", "parse_error_object", "parse_task", "parse_uploaded_file"]

_MAX_MESSAGE_CHARS = 1000
_TASK_FIELDS = frozenset(
    {"id", "status", "progress", "task_info", "results", "output", "error", "model",
     "created", "task_status_msg", "fail_reason"}
)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_CONTROL_OR_SPACE = re.compile(r"[\s\x00-\x1f\x7f]+")


def parse_task(data: object) -> Task:
    """A :class:`Task` from a task answer (create or poll); accepts every documented shape."""
    task = _unwrap(data, "status")
    task_id = _identifier(task.get("id"))
    if task_id is None:
        raise _malformed("the task has no id")
    status = _status(task.get("status"))
    urls, sizes = _result_urls(task)
    if status is TaskStatus.COMPLETED and not urls:
        raise _malformed("the task is completed but has no video link")
    progress = _progress(task.get("progress"), status)
    info = task.get("task_info")
    info = info if isinstance(info, Mapping) else {}
    created = _number(task.get("created"))
    can_cancel = info.get("can_cancel")
    return Task(
        id=task_id,
        status=status,
        progress=progress,
        estimated_time=_non_negative(info.get("estimated_time")),
        result_url=urls[0] if urls else None,
        result_urls=tuple(urls),
        error=_task_error(task, task_id, status),
        model=_text(task.get("model")),
        created=int(created) if created is not None else None,
        width=_size(sizes.get("width")),
        height=_size(sizes.get("height")),
        duration=_non_negative(sizes.get("duration")),
        can_cancel=can_cancel if isinstance(can_cancel, bool) else None,
        extra={k: v for k, v in task.items() if isinstance(k, str) and k not in _TASK_FIELDS},
    )


def parse_uploaded_file(data: object) -> UploadedFile:
    """An :class:`UploadedFile` from an upload answer; its ``url`` is required."""
    answer = _unwrap(data, "url")
    url = _web_url(answer.get("url"))
    if url is None:
        raise _malformed("the uploaded file has no link")
    created = _number(answer.get("created"))
    return UploadedFile(
        id=_identifier(answer.get("id")) or "",
        url=url,
        filename=_text(answer.get("filename")) or "",
        size=_size(answer.get("size")),
        created=int(created) if created is not None else None,
    )


def parse_error_body(
    body: bytes, content_type: str | None
) -> tuple[str | None, str | None, str | None]:
    """``(message, type, code)`` from an error answer; each None when absent or unreadable.

    Understands ``{"error": {...}}``, ``{"error": "..."}``, a top-level
    ``message``/``detail``, an HTML page (its title) and short plain text.
    Truncated JSON yields no message rather than a fragment of JSON.
    """
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return None, None, None
    try:
        data: object = json.loads(text)
    except (ValueError, RecursionError):
        return _message_from_text(text, content_type or ""), None, None
    return parse_error_object(data)


def _message_from_text(text: str, content_type: str) -> str | None:
    if "html" in content_type.lower() or text.startswith("<"):
        title = _HTML_TITLE.search(text)
        return _clean(html.unescape(title.group(1))) if title else None
    if text.startswith(("{", "[")):  # JSON cut short: nothing trustworthy to show
        return None
    return _clean(text.splitlines()[0])


def parse_error_object(data: object) -> tuple[str | None, str | None, str | None]:
    """``(message, type, code)`` from an already decoded error answer."""
    if not isinstance(data, Mapping):
        return (_text(data), None, None)
    error = data.get("error")
    if isinstance(error, Mapping):
        return _text(error.get("message")), _text(error.get("type")), _code(error.get("code"))
    message = _text(error) or _text(data.get("message")) or _text(data.get("detail"))
    return message, _text(data.get("type")), _code(data.get("code"))


def _unwrap(data: object, key: str) -> Mapping[Any, Any]:
    """The answer object, also when a reseller wraps it as ``{"data": {...}}``."""
    if not isinstance(data, Mapping):
        raise _malformed("it is not a JSON object")
    inner = data.get("data")
    if key not in data and isinstance(inner, Mapping):
        return inner
    return data


def _status(value: object) -> TaskStatus:
    if isinstance(value, str):
        try:
            return TaskStatus(value.strip().lower())
        except ValueError:
            pass
    raise _malformed("the task status is missing or unknown")


def _progress(value: object, status: TaskStatus) -> int:
    number = _number(value)
    if number is None:
        return 100 if status is TaskStatus.COMPLETED else 0
    return round(min(100.0, max(0.0, number)))


def _result_urls(task: Mapping[Any, Any]) -> tuple[list[str], dict[str, object]]:
    """Video links in answer order (``results`` then ``output``) and the first size info."""
    urls: list[str] = []
    sizes: dict[str, object] = {}
    results = task.get("results")
    for item in results if isinstance(results, list) else ():
        if isinstance(item, Mapping):
            _add_url(urls, item.get("url"))
            _add_sizes(sizes, item)
        else:
            _add_url(urls, item)
    output = task.get("output")
    if isinstance(output, Mapping):
        _add_url(urls, output.get("url"))
        extra = output.get("urls")
        for item in extra if isinstance(extra, list) else ():
            _add_url(urls, item)
        _add_sizes(sizes, output)
    else:
        _add_url(urls, output)
    return list(dict.fromkeys(urls)), sizes


def _add_url(urls: list[str], value: object) -> None:
    url = _web_url(value)
    if url is not None:
        urls.append(url)


def _add_sizes(sizes: dict[str, object], source: Mapping[Any, Any]) -> None:
    for key in ("width", "height", "duration"):
        if sizes.get(key) is None:
            sizes[key] = source.get(key)


def _task_error(task: Mapping[Any, Any], task_id: str, status: TaskStatus) -> TaskError | None:
    """The reason of a failed task: ``error.message``, else the pass-through fields."""
    if status not in (TaskStatus.FAILED, TaskStatus.CANCELLED):
        return None
    raw = task.get("error")
    code = error_type = None
    if isinstance(raw, Mapping):
        message = _text(raw.get("message"))
        code, error_type = _code(raw.get("code")), _text(raw.get("type"))
    else:
        message = _text(raw)
    message = message or _text(task.get("task_status_msg")) or _text(task.get("fail_reason"))
    if status is TaskStatus.CANCELLED and message is None and code is None:
        return None
    if message is None:
        message = f"The provider reported task {task_id} as failed without giving a reason."
    return TaskError(message=message, code=code, type=error_type)


def _web_url(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    url = value.strip()
    return url if url.lower().startswith(("https://", "http://")) and len(url) > 8 else None


def _identifier(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text(value)


def _code(value: object) -> str | None:
    return _identifier(value)


def _text(value: object) -> str | None:
    return _clean(value) if isinstance(value, str) else None


def _clean(text: str) -> str | None:
    """One line of at most ``_MAX_MESSAGE_CHARS`` characters, or None if blank."""
    line = _CONTROL_OR_SPACE.sub(" ", text).strip()
    if len(line) > _MAX_MESSAGE_CHARS:
        line = line[: _MAX_MESSAGE_CHARS - 1].rstrip() + "…"
    return line or None


def _number(value: object) -> float | None:
    """A finite float from a JSON number or numeric string; None otherwise."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str):
            number = float(value.strip())
        else:
            return None
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _non_negative(value: object) -> float | None:
    number = _number(value)
    return number if number is not None and number >= 0 else None


def _size(value: object) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number >= 0 else None


def _malformed(detail: str) -> MalformedResponseError:
    return MalformedResponseError(f"The provider sent an answer this app cannot read: {detail}.")
