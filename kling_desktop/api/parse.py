"""Turn the provider's JSON into typed models, defensively.

Every public function here either returns its model or raises
:class:`MalformedResponseError`; nothing else escapes, whatever the input.
Fields the app needs (task id, status) are required; hints (progress, sizes,
estimated time, usage) are dropped when unreadable.

Nothing the provider says is copied as is:

- identifiers (task ids, file ids) go through :func:`validate_id`: 1 to 128 of
  ``A-Z a-z 0-9 - _ . :``, not starting with a dot (so never ``.`` or ``..``,
  nor a hidden-file name), else the answer is malformed. They are never
  trimmed or shortened: an id is either usable as it is or refused;
- every text (messages, codes, types, the status word, the model, usage keys and
  values, file names) goes through :func:`clean_text`: control characters become
  spaces, format (bidi overrides, zero-width) and surrogate characters are
  removed, white space is collapsed to one line, the caller's ``redact`` is
  applied (the client passes its key scrubber), then the length is bounded;
- links must be ``http(s)://`` without white space or control characters, at
  most 4096 characters, and must not contain anything ``redact`` would change:
  anything else is dropped (a task) or malformed (an upload).
"""

from __future__ import annotations

import html
import json
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

from kling_desktop.api.errors import MalformedResponseError
from kling_desktop.api.exchange import Task, TaskError, UploadedFile, UsageValue
from kling_desktop.api.models import TaskStatus
from kling_desktop.i18n import N_, _

__all__ = [
    "Redact",
    "clean_text",
    "parse_error_body",
    "parse_error_object",
    "parse_task",
    "parse_uploaded_file",
    "validate_id",
]

Redact = Callable[[str], str]
"""Removes secrets from a text (the client's key scrubber); applied after cleaning."""

MAX_MESSAGE_CHARS = 1000
MAX_SHORT_CHARS = 100  # codes, types, the model
MAX_STATUS_CHARS = 64
MAX_URL_CHARS = 4096
MAX_ID_CHARS = 128
MAX_USAGE_KEYS = 20
MAX_USAGE_KEY_CHARS = 64
MAX_USAGE_VALUE_CHARS = 200
_MAX_EXTRA_KEYS = 40
_MAX_DEPTH = 3
_TASK_FIELDS = frozenset(
    {"id", "status", "progress", "task_info", "results", "output", "error", "model",
     "created", "task_status_msg", "fail_reason", "usage", "final_unit_deduction", "cost"}
)
_USAGE_FIELDS = ("usage", "final_unit_deduction", "cost")
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_ID = re.compile(rf"[A-Za-z0-9_.:-]{{1,{MAX_ID_CHARS}}}")
_SPACES = re.compile(r" +")


def _keep(text: str) -> str:
    return text


def validate_id(text: object, *, what: str, redact: Redact = _keep) -> str:
    """``text`` when it is a usable identifier (see the module docstring), else malformed.

    A JSON integer is accepted as its decimal text. ``redact`` changing the id
    (it holds the API key) makes it unusable too.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    if (
        not isinstance(text, str)
        or _ID.fullmatch(text) is None
        or text.startswith(".")
        or redact(text) != text
    ):
        # TRANSLATORS: {what} is "task id" or "file id".
        raise _malformed(_("the {what} is not a usable identifier").format(what=_(what)))
    return text


def clean_text(text: str, *, limit: int = MAX_MESSAGE_CHARS, redact: Redact = _keep) -> str | None:
    """One line of at most ``limit`` characters, or None when nothing is left.

    Control characters become spaces; format (bidi, zero-width) and surrogate
    characters are removed; white space is collapsed; ``redact`` runs on the
    cleaned text, before it is shortened.
    """
    kept: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if char.isspace() or category == "Cc":
            kept.append(" ")
        elif category not in ("Cf", "Cs"):
            kept.append(char)
    line = redact(_SPACES.sub(" ", "".join(kept)).strip())
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "\u2026"
    return line or None


def parse_task(data: object, *, redact: Redact = _keep) -> Task:
    """A :class:`Task` from a task answer (create or poll); accepts every documented shape.

    An unknown status word gives :attr:`TaskStatus.UNKNOWN` (the word is kept in
    ``raw_status``); a completed task without a usable link has ``result_url`` None.
    """
    task = _unwrap(data, "status")
    task_id = validate_id(task.get("id"), what=N_("task id"), redact=redact)
    raw_status = _text(task.get("status"), MAX_STATUS_CHARS, redact)
    if raw_status is None:
        raise _malformed(_("the task status is missing"))
    status = _status(raw_status)
    urls, sizes = _result_urls(task, redact)
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
        error=_task_error(task, task_id, status, redact),
        model=_text(task.get("model"), MAX_SHORT_CHARS, redact),
        created=_int(created),
        width=_size(sizes.get("width")),
        height=_size(sizes.get("height")),
        duration=_non_negative(sizes.get("duration")),
        can_cancel=can_cancel if isinstance(can_cancel, bool) else None,
        raw_status=raw_status,
        usage=_usage(task, redact),
        extra=_extra(task, redact),
    )


def parse_uploaded_file(data: object, *, redact: Redact = _keep) -> UploadedFile:
    """An :class:`UploadedFile` from an upload answer; its ``url`` is required."""
    answer = _unwrap(data, "url")
    url = _web_url(answer.get("url"), redact)
    if url is None:
        raise _malformed(_("the uploaded file has no usable link"))
    raw_id = answer.get("id")
    created = _number(answer.get("created"))
    return UploadedFile(
        id="" if raw_id is None else validate_id(raw_id, what=N_("file id"), redact=redact),
        url=url,
        filename=_text(answer.get("filename"), 255, redact) or "",
        size=_size(answer.get("size")),
        created=_int(created),
    )


def parse_error_body(
    body: bytes, content_type: str | None, *, redact: Redact = _keep
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
        return _message_from_text(text, content_type or "", redact), None, None
    return parse_error_object(data, redact=redact)


def _message_from_text(text: str, content_type: str, redact: Redact) -> str | None:
    if "html" in content_type.lower() or text.startswith("<"):
        title = _HTML_TITLE.search(text)
        return clean_text(html.unescape(title.group(1)), redact=redact) if title else None
    if text.startswith(("{", "[")):  # JSON cut short: nothing trustworthy to show
        return None
    return clean_text(text.splitlines()[0], redact=redact)


def parse_error_object(
    data: object, *, redact: Redact = _keep
) -> tuple[str | None, str | None, str | None]:
    """``(message, type, code)`` from an already decoded error answer, cleaned."""
    if not isinstance(data, Mapping):
        return (_text(data, MAX_MESSAGE_CHARS, redact), None, None)
    error = data.get("error")
    if isinstance(error, Mapping):
        return (
            _text(error.get("message"), MAX_MESSAGE_CHARS, redact),
            _text(error.get("type"), MAX_SHORT_CHARS, redact),
            _code(error.get("code"), redact),
        )
    message = (
        _text(error, MAX_MESSAGE_CHARS, redact)
        or _text(data.get("message"), MAX_MESSAGE_CHARS, redact)
        or _text(data.get("detail"), MAX_MESSAGE_CHARS, redact)
    )
    error_type = _text(data.get("type"), MAX_SHORT_CHARS, redact)
    return message, error_type, _code(data.get("code"), redact)


def _unwrap(data: object, key: str) -> Mapping[Any, Any]:
    """The answer object, also when a reseller wraps it as ``{"data": {...}}``."""
    if not isinstance(data, Mapping):
        raise _malformed(_("it is not a JSON object"))
    inner = data.get("data")
    if key not in data and isinstance(inner, Mapping):
        return inner
    return data


def _status(word: str) -> TaskStatus:
    try:
        return TaskStatus(word.lower())
    except ValueError:
        return TaskStatus.UNKNOWN


def _progress(value: object, status: TaskStatus) -> int:
    number = _number(value)
    if number is None:
        return 100 if status is TaskStatus.COMPLETED else 0
    return round(min(100.0, max(0.0, number)))


def _result_urls(
    task: Mapping[Any, Any], redact: Redact
) -> tuple[list[str], dict[str, object]]:
    """Video links in answer order (``results`` then ``output``) and the first size info."""
    urls: list[str] = []
    sizes: dict[str, object] = {}

    def add(value: object) -> None:
        url = _web_url(value, redact)
        if url is not None:
            urls.append(url)

    results = task.get("results")
    for item in results if isinstance(results, list) else ():
        if isinstance(item, Mapping):
            add(item.get("url"))
            _add_sizes(sizes, item)
        else:
            add(item)
    output = task.get("output")
    if isinstance(output, Mapping):
        add(output.get("url"))
        extra = output.get("urls")
        for item in extra if isinstance(extra, list) else ():
            add(item)
        _add_sizes(sizes, output)
    else:
        add(output)
    return list(dict.fromkeys(urls)), sizes


def _add_sizes(sizes: dict[str, object], source: Mapping[Any, Any]) -> None:
    for key in ("width", "height", "duration"):
        if sizes.get(key) is None:
            sizes[key] = source.get(key)


def _task_error(
    task: Mapping[Any, Any], task_id: str, status: TaskStatus, redact: Redact
) -> TaskError | None:
    """The reason of a failed task: ``error.message``, else the pass-through fields."""
    if status not in (TaskStatus.FAILED, TaskStatus.CANCELLED):
        return None
    raw = task.get("error")
    code = error_type = None
    if isinstance(raw, Mapping):
        message = _text(raw.get("message"), MAX_MESSAGE_CHARS, redact)
        code = _code(raw.get("code"), redact)
        error_type = _text(raw.get("type"), MAX_SHORT_CHARS, redact)
    else:
        message = _text(raw, MAX_MESSAGE_CHARS, redact)
    message = (
        message
        or _text(task.get("task_status_msg"), MAX_MESSAGE_CHARS, redact)
        or _text(task.get("fail_reason"), MAX_MESSAGE_CHARS, redact)
    )
    if status is TaskStatus.CANCELLED and message is None and code is None:
        return None
    if message is None:
        message = _("The provider reported task {task_id} as failed without giving a "
                    "reason.").format(task_id=task_id)
    return TaskError(message=message, code=code, type=error_type)


def _usage(task: Mapping[Any, Any], redact: Redact) -> dict[str, UsageValue] | None:
    """What the provider reports it reserved or charged, flattened to bounded scalars."""
    flat: dict[str, UsageValue] = {}

    def add(key: str, value: object, depth: int) -> None:
        if len(flat) >= MAX_USAGE_KEYS or depth > _MAX_DEPTH:
            return
        if isinstance(value, Mapping):
            for sub_key, sub_value in value.items():
                if isinstance(sub_key, str):
                    add(f"{key}.{sub_key}" if key else sub_key, sub_value, depth + 1)
            return
        name = clean_text(key, limit=MAX_USAGE_KEY_CHARS, redact=redact)
        scalar = _scalar(value, redact)
        if name is not None and scalar is not None and name not in flat:
            flat[name] = scalar

    for field in _USAGE_FIELDS:
        if field in task:
            add("" if field == "usage" else field, task[field], 0)
    return flat or None


def _scalar(value: object, redact: Redact) -> UsageValue | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value if abs(value) < 2**63 else None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return clean_text(value, limit=MAX_USAGE_VALUE_CHARS, redact=redact)
    return None


def _extra(task: Mapping[Any, Any], redact: Redact) -> dict[str, Any]:
    """The answer's other top-level fields: cleaned scalars only (nested data dropped)."""
    extra: dict[str, Any] = {}
    for key, value in task.items():
        if len(extra) >= _MAX_EXTRA_KEYS:
            break
        if not isinstance(key, str) or key in _TASK_FIELDS:
            continue
        name = clean_text(key, limit=MAX_USAGE_KEY_CHARS, redact=redact)
        scalar = None if value is None else _scalar(value, redact)
        if name is not None and scalar is not None:
            extra[name] = scalar
    return extra


def _web_url(value: object, redact: Redact) -> str | None:
    """An http(s) link with nothing hidden in it, else None."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not 8 < len(url) <= MAX_URL_CHARS or not url.lower().startswith(("https://", "http://")):
        return None
    if any(char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Cs") for char in url):
        return None
    return url if redact(url) == url else None


def _code(value: object, redact: Redact) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text(value, MAX_SHORT_CHARS, redact)


def _text(value: object, limit: int, redact: Redact) -> str | None:
    return clean_text(value, limit=limit, redact=redact) if isinstance(value, str) else None


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


def _int(value: float | None) -> int | None:
    return int(value) if value is not None else None


def _non_negative(value: object) -> float | None:
    number = _number(value)
    return number if number is not None and number >= 0 else None


def _size(value: object) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number >= 0 else None


def _malformed(detail: str) -> MalformedResponseError:
    """``detail`` is already in the user's language (a lower-case clause)."""
    return MalformedResponseError(
        _("The provider sent an answer this app cannot read: {detail}.").format(detail=detail))
