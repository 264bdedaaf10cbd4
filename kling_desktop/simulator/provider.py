"""The provider's behaviour: uploads, tasks and their progress, failures, answer shapes.

:class:`Provider` holds the state the HTTP handler works on (uploads, tasks,
queued faults, the request log) and the test controls (``inject``,
``fail_next_task``, ``count``...); :class:`~kling_desktop.simulator.server.Simulator`
puts it on a socket. Answers follow ``shared/API.md``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from kling_desktop import paths
from kling_desktop.api.models import MAX_PROMPT_CHARS, Mode, Model, Orientation, TaskStatus
from kling_desktop.files import same_bytes
from kling_desktop.simulator.config import (
    FAIL_FIELDS,
    RESULT_SHAPES,
    ROUTES,
    Fault,
    RequestRecord,
    SimulatorConfig,
)
from kling_desktop.simulator.http import Response, dumps, error_answer
from kling_desktop.simulator.media import VideoFacts, video_facts

__all__ = [
    "FILE_PATH",
    "Failure",
    "Provider",
    "Task",
    "Upload",
    "fault_response",
    "passed_through",
    "validate_generation",
]

log = logging.getLogger("kling_desktop.simulator")

FILE_PATH = re.compile(r"/files/([A-Za-z0-9-]+)/([^/]+)")


@dataclass
class Upload:
    id: str
    filename: str
    stored_name: str
    path: Path
    size: int
    created: int
    kind: str | None


@dataclass(frozen=True)
class Failure:
    code: str
    message: str
    field: str
    error_type: str = "task_error"


@dataclass
class Task:
    id: str
    created: int
    model: str
    mode: str
    prompt: str
    orientation: str
    keep_original_sound: str
    image_url: str
    video_url: str
    source: Path | None  # the uploaded reference clip; None: paths.sample_motion()
    facts: VideoFacts    # of the reference clip: what is billed
    failure: Failure | None
    request_id: str
    polls: int = 0
    status: TaskStatus = TaskStatus.PENDING
    progress: int = 0
    updated: int = 0
    completed_at: int | None = None
    result: Path | None = None  # served instead of the clip: the sample result
    result_facts: VideoFacts | None = None


def _format_seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def fault_response(fault: Fault) -> Response:
    headers: list[tuple[str, str]] = list(fault.headers)
    if fault.retry_after is not None:
        headers.append(("Retry-After", _format_seconds(fault.retry_after)))
    if fault.never_ends:
        return Response(fault.status, content_type=fault.content_type or "video/mp4",
                         headers=headers, endless=True, close=True)
    if fault.body is not None:
        return Response(
            fault.status,
            fault.body,
            content_type=fault.content_type or "application/json",
            headers=headers,
            dribble=fault.dribble_seconds,
        )
    response = error_answer(
        fault.status,
        fault.message or f"Simulated error {fault.status}",
        fault.error_type,
        fault.code,
        headers=headers,
    )
    if fault.content_type:
        response.content_type = fault.content_type
    response.dribble = fault.dribble_seconds
    return response


def passed_through(real: Response, fault: Fault) -> Response:
    """The real answer with the fault's patches, extra headers and pace applied."""
    if (fault.patch or fault.drop) and real.file is None and real.content_type.startswith(
        "application/json"
    ):
        with contextlib.suppress(ValueError):
            data = json.loads(real.body)
            if isinstance(data, dict):
                for key in fault.drop:
                    data.pop(key, None)
                data.update(dict(fault.patch))
                real.body = dumps(data)
    real.headers = [*real.headers, *fault.headers]
    real.dribble = fault.dribble_seconds
    return real


def _safe_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._")
    return safe[-120:] or "upload"


def _is_http_url(value: object) -> bool:
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def validate_generation(data: dict[str, Any]) -> tuple[dict[str, str] | None, Response | None]:
    def bad(param: str, message: str) -> tuple[None, Response]:
        return None, error_answer(422, message, code="invalid_parameter", param=param)

    models = [m.value for m in Model]
    model = data.get("model")
    if model not in models:
        return bad("model", f"Invalid model {model!r}: must be one of {', '.join(models)}")
    for key in ("image_url", "video_url"):
        value = data.get(key)
        if value is None:
            return bad(key, f"{key} is required")
        if not _is_http_url(value):
            return bad(key, f"{key} must be an http(s) URL")
    params = {"model": str(model), "image_url": data["image_url"], "video_url": data["video_url"]}
    choices = {
        "mode": ([m.value for m in Mode], Mode.STD.value),
        "character_orientation": ([o.value for o in Orientation], Orientation.IMAGE.value),
        "keep_original_sound": (["yes", "no"], "yes"),
    }
    for key, (allowed, default) in choices.items():
        value = data.get(key)
        if value is None:
            params[key] = default
        elif not isinstance(value, str) or value not in allowed:
            quoted = " or ".join(f"'{a}'" for a in allowed)
            return bad(key, f"{key} must be the string {quoted}")
        else:
            params[key] = value
    prompt = data.get("prompt")
    if prompt is None:
        prompt = ""
    if not isinstance(prompt, str):
        return bad("prompt", "prompt must be a string")
    if len(prompt) > MAX_PROMPT_CHARS:
        return bad("prompt", f"prompt must be at most {MAX_PROMPT_CHARS} characters")
    params["prompt"] = prompt
    return params, None


class Provider:
    """The provider's state and rules, without the socket; safe to share between threads."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config if config is not None else SimulatorConfig()
        if self.config.result_shape not in RESULT_SHAPES:
            raise ValueError(f"result_shape must be one of {', '.join(RESULT_SHAPES)}")
        self._storage: Path | None = None
        self._lock = threading.Lock()
        self._faults: dict[str, deque[Fault]] = {route: deque() for route in ROUTES}
        self._fail_next: Failure | None = None
        self._log: list[RequestRecord] = []
        self._uploads: dict[str, Upload] = {}
        self._tasks: dict[str, Task] = {}

    @property
    def base_url(self) -> str:
        """Where the provider answers; links in answers start with it."""
        raise NotImplementedError

    def inject(self, route: str, fault: Fault, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``route`` with ``fault`` (FIFO per route)."""
        if route not in ROUTES:
            raise ValueError(f"route must be one of {', '.join(ROUTES)}")
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._faults[route].extend([fault] * times)

    def clear_faults(self) -> None:
        with self._lock:
            for queue in self._faults.values():
                queue.clear()

    def fail_next_task(
        self,
        code: str = "generation_failed",
        message: str = "The video could not be generated, please try again",
        field: str = "error",
        error_type: str = "task_error",
    ) -> None:
        """The next created task ends ``failed``; ``field`` says where the reason goes.

        ``field="all"``: in ``error`` (code, message, ``error_type``), ``task_status_msg``
        and ``fail_reason`` at once.
        """
        if field not in FAIL_FIELDS:
            raise ValueError(f"field must be one of {', '.join(FAIL_FIELDS)}")
        with self._lock:
            self._fail_next = Failure(code, message, field, error_type)

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._log)

    def count(self, route: str, status: int | None = None) -> int:
        with self._lock:
            return sum(
                1
                for r in self._log
                if (route == "any" or r.route == route) and (status is None or r.status == status)
            )

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()

    @property
    def task_ids(self) -> list[str]:
        """Ids of every task created so far (also those answered with a fault)."""
        with self._lock:
            return list(self._tasks)

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self._log.append(record)
        log.debug("%s %s -> %s (%s)", record.method, record.path, record.status, record.route)

    def _take_fault(self, route: str) -> Fault | None:
        with self._lock:
            for queue in (self._faults[route], self._faults["any"]):
                if queue:
                    return queue.popleft()
        return None

    def _partial_path(self) -> Path:
        assert self._storage is not None
        return self._storage / "uploads" / f".partial-{secrets.token_hex(8)}"

    def _store_upload(self, partial: Path, name: str, size: int, kind: str | None) -> Upload:
        assert self._storage is not None
        file_id = f"file-{secrets.token_hex(12)}"
        filename = name.replace("\\", "/").rsplit("/", 1)[-1] or "upload"
        stored = _safe_name(filename)
        folder = self._storage / "uploads" / file_id
        folder.mkdir()
        final = folder / stored
        partial.replace(final)
        upload = Upload(file_id, filename, stored, final, size, int(time.time()), kind)
        with self._lock:
            self._uploads[file_id] = upload
        return upload

    def _upload(self, file_id: str) -> Upload | None:
        with self._lock:
            return self._uploads.get(file_id)

    def _upload_json(self, upload: Upload) -> dict[str, Any]:
        return {
            "id": upload.id,
            "object": "file",
            "filename": upload.filename,
            "url": f"{self.base_url}/files/{upload.id}/{quote(upload.stored_name)}",
            "size": upload.size,
            "bytes": upload.size,
            "created": upload.created,
            "expires_at": upload.created + 72 * 3600,
            "purpose": "video_generation",
        }

    def _uploaded(self, url: str) -> Upload | None:
        """The upload a link of this provider points at (None for any other link)."""
        match = FILE_PATH.fullmatch(urlsplit(url).path)
        return None if match is None else self._upload(match.group(1))

    def _reference_clip(self, video_url: str) -> Path | None:
        upload = self._uploaded(video_url)
        if upload is None or upload.kind not in ("mp4", "mov"):
            return None
        return upload.path

    def _sample_result(self, params: dict[str, str]) -> Path | None:
        """The sample result, in demo mode or when both inputs are the bundled samples."""
        result = paths.sample_result()
        if not result.is_file():
            return None
        if self.config.demo_result:
            return result
        image = self._uploaded(params["image_url"])
        video = self._uploaded(params["video_url"])
        if image is None or video is None:
            return None
        if same_bytes(image.path, paths.sample_character()) and same_bytes(
                video.path, paths.sample_motion()):
            return result
        return None

    def _create_task(self, params: dict[str, str]) -> Task:
        now = int(time.time())
        source = self._reference_clip(params["video_url"])
        facts = video_facts(source if source is not None else paths.sample_motion())
        result = self._sample_result(params)
        result_facts = video_facts(result) if result is not None else None
        with self._lock:
            failure, self._fail_next = self._fail_next, None
            task = Task(
                id=f"task-unified-{now}-{secrets.token_hex(4)}",
                created=now,
                model=params["model"],
                mode=params["mode"],
                prompt=params["prompt"],
                orientation=params["character_orientation"],
                keep_original_sound=params["keep_original_sound"],
                image_url=params["image_url"],
                video_url=params["video_url"],
                source=source,
                facts=facts,
                failure=failure,
                request_id=f"req-{secrets.token_hex(8)}",
                updated=now,
                result=result,
                result_facts=result_facts,
            )
            self._tasks[task.id] = task
        log.info("task %s created (%s, %s)", task.id, task.model, task.mode)
        return task

    def _usage(self, task: Task) -> dict[str, Any]:
        seconds = task.facts.duration
        return {
            "billing_rule": "per_second",
            "billable_seconds": seconds,
            "mode": task.mode,
            "total_tokens": 0,
        }

    def _created_json(self, task: Task) -> dict[str, Any]:
        return {
            "created": task.created,
            "id": task.id,
            "model": task.model,
            "object": "video.generation.task",
            "progress": 0,
            "status": TaskStatus.PENDING.value,
            "task_info": {"can_cancel": True, "estimated_time": self.config.estimated_time},
            "type": "video",
            "usage": self._usage(task),
            "request_id": task.request_id,
            "metadata": {"simulator": True, "channel": "loopback"},
        }

    def _advance(self, task: Task) -> None:
        task.polls += 1
        task.updated = int(time.time())
        if task.status.is_final:
            return
        needed = max(1, self.config.polls_until_done)
        if task.polls >= needed:
            if task.failure is not None:
                task.status = TaskStatus.FAILED
            else:
                task.status = TaskStatus.COMPLETED
                task.progress = 100
                task.completed_at = task.updated
        elif task.polls == 1:
            task.status = TaskStatus.PENDING
        else:
            task.status = TaskStatus.PROCESSING
            task.progress = min(99, max(1, round(100 * (task.polls - 1) / needed)))

    def _poll(self, task_id: str) -> dict[str, Any] | None:
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None:
                return None
            self._advance(task)
            return self._task_json(task)

    def _task_json(self, task: Task) -> dict[str, Any]:
        # The whole task's estimate, as given at creation (the engine reads it from the
        # task's creation): a shrinking "time left" would run out at 40 % and make the
        # words say the task is late while it is on time.
        estimate = 0 if task.status.is_final else self.config.estimated_time
        body: dict[str, Any] = {
            "id": task.id,
            "object": "video.generation.task",
            "model": task.model,
            "type": "video",
            "created": task.created,
            "updated_at": task.updated,
            "status": task.status.value,
            "progress": task.progress,
            "task_info": {
                "can_cancel": task.status is TaskStatus.PENDING,
                "estimated_time": estimate,
            },
            "usage": self._usage(task),
            "request_id": task.request_id,
            "metadata": {"simulator": True, "polls": task.polls},
        }
        if task.status is TaskStatus.COMPLETED:
            body["completed_at"] = task.completed_at
            body.update(self._result_fields(task))
        elif task.status is TaskStatus.FAILED and task.failure is not None:
            failure = task.failure
            if failure.field in ("error", "all"):
                body["error"] = {
                    "code": failure.code,
                    "message": failure.message,
                    "type": "task_error",
                }
            elif failure.field in ("task_status_msg", "fail_reason"):
                body[failure.field] = failure.message
            if failure.field == "all":
                body["task_status_msg"] = body["fail_reason"] = failure.message
            if failure.field in ("error", "all"):
                body["error"]["type"] = failure.error_type
        return body

    def _result_fields(self, task: Task) -> dict[str, Any]:
        url = f"{self.base_url}/results/{task.id}.mp4"
        if self.config.fresh_result_links:
            url += f"?v={task.polls}"
        facts = task.result_facts or task.facts
        width = facts.width or (1920 if task.mode == Mode.PRO.value else 1280)
        height = facts.height or (1080 if task.mode == Mode.PRO.value else 720)
        shape = self.config.result_shape
        if shape == "results_objects":
            item = {"url": url, "width": width, "height": height, "content_type": "video/mp4"}
            return {"results": [item]}
        if shape == "output":
            return {
                "output": {
                    "url": url,
                    "urls": [url],
                    "duration": facts.duration,
                    "width": width,
                    "height": height,
                    "format": "mp4",
                }
            }
        return {"results": [url]}

    def _result_source(self, task_id: str) -> Path | None:
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None or task.status is not TaskStatus.COMPLETED:
                return None
            source = task.result or task.source
        if source is not None:
            return source
        return paths.sample_motion()
