"""The provider's endpoints as the HTTP handler answers them (``shared/API.md``).

A mixin of the request handler: each route checks the key, reads what it needs
from the request and asks the :class:`~kling_desktop.simulator.provider.Provider`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from kling_desktop.simulator.http import Body, MultipartSink, Response, error_answer, json_answer
from kling_desktop.simulator.media import SNIFF_BYTES, VIDEO_KINDS, sniff
from kling_desktop.simulator.provider import FILE_PATH, Provider, validate_generation

__all__ = ["MAX_JSON_BODY", "ProviderRoutes"]

MAX_JSON_BODY = 64 * 1024 * 1024
_CONTENT_TYPES = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "avi": "video/x-msvideo",
}
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_RESULT_PATH = re.compile(r"/results/([A-Za-z0-9-]+)\.mp4")
_TASK_PATH = re.compile(r"/v1/tasks/([^/]+)")


class ProviderRoutes:
    """The routes of the request handler (mixed into it: uses its headers and body)."""

    headers: Message
    command: str
    _body: Body

    @property
    def sim(self) -> Provider:
        raise NotImplementedError

    def _route(self, method: str, path: str) -> tuple[str, Callable[[], Response]]:
        get = method in ("GET", "HEAD")
        if path in ("/v1/files/upload/stream", "/v1/files/upload/base64"):
            if method != "POST":
                return "upload", self._not_allowed
            if path.endswith("stream"):
                return "upload", self._upload_stream
            return "upload", self._upload_base64
        if path == "/v1/videos/generations":
            return "create", self._create if method == "POST" else self._not_allowed
        if match := _TASK_PATH.fullmatch(path):
            task_id = unquote(match.group(1))
            return "task", (lambda: self._get_task(task_id)) if get else self._not_allowed
        if match := FILE_PATH.fullmatch(path):
            file_id, name = match.group(1), unquote(match.group(2))
            return "file", (lambda: self._get_file(file_id, name)) if get else self._not_allowed
        if match := _RESULT_PATH.fullmatch(path):
            task_id = match.group(1)
            return "download", (lambda: self._get_result(task_id)) if get else self._not_allowed
        return "other", lambda: error_answer(404, f"Unknown path: {path}", "not_found", "not_found")

    def _not_allowed(self) -> Response:
        return error_answer(
            405, f"Method {self.command} not allowed here", code="method_not_allowed"
        )

    def _check_auth(self) -> Response | None:
        header = (self.headers.get("Authorization") or "").strip()
        scheme, _, token = header.partition(" ")
        token = token.strip()
        challenge = [("WWW-Authenticate", 'Bearer realm="api"')]
        if scheme.lower() != "bearer" or not token:
            return error_answer(
                401,
                "Missing API key: send the header 'Authorization: Bearer <your key>'",
                code="missing_api_key",
                headers=challenge,
            )
        expected = self.sim.config.api_key
        if expected is not None and not hmac.compare_digest(
            token.encode("utf-8", "surrogateescape"), expected.encode("utf-8")
        ):
            return error_answer(
                401, "Invalid API key provided", code="invalid_api_key", headers=challenge
            )
        return None

    def _read_json(self) -> tuple[dict[str, Any] | None, Response | None]:
        ctype = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if ctype != "application/json":
            return None, error_answer(
                400, "Content-Type must be application/json", code="invalid_content_type"
            )
        if self._body.declared is not None and self._body.declared > MAX_JSON_BODY:
            response = error_answer(413, "Request body too large", code="payload_too_large")
            response.close = True
            return None, response
        raw = self._body.read_all(MAX_JSON_BODY)
        if raw is None:
            response = error_answer(413, "Request body too large", code="payload_too_large")
            response.close = True
            return None, response
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None, error_answer(400, "Invalid JSON in request body", code="invalid_json")
        if not isinstance(data, dict):
            return None, error_answer(400, "The JSON body must be an object", code="invalid_json")
        return data, None

    # -- routes

    def _upload_stream(self) -> Response:
        if (denied := self._check_auth()) is not None:
            return denied
        mime, params = parse_options_header(self.headers.get("Content-Type") or "")
        boundary = params.get(b"boundary")
        if mime != b"multipart/form-data" or not boundary:
            return error_answer(
                400,
                "Content-Type must be multipart/form-data with a boundary",
                code="invalid_content_type",
            )
        sim = self.sim
        sink = MultipartSink(sim._partial_path(), sim.config.upload_accepts_video)
        try:
            parser = MultipartParser(boundary, callbacks=sink.callbacks())
            while not sink.refused and (chunk := self._body.read()):
                parser.write(chunk)
            if not sink.refused:
                parser.finalize()
        except FormParserError as exc:
            sink.discard()
            return error_answer(400, f"Malformed multipart body: {exc}", code="invalid_multipart")
        except BaseException:
            sink.discard()
            raise
        sink.close()
        if sink.refused:
            sink.discard()
            return self._refuse_video()
        if not sink.ended:
            sink.discard()
            return error_answer(400, "Incomplete multipart body", code="invalid_multipart")
        if not sink.has_file:
            return error_answer(
                400, "The 'file' field is required", code="missing_file", param="file"
            )
        if sink.size == 0:
            sink.discard()
            return error_answer(400, "The uploaded file is empty", code="empty_file", param="file")
        name = sink.field_text("file_name") or sink.part_filename or "upload"
        upload = sim._store_upload(sink.partial, name, sink.size, sink.kind)
        return json_answer(200, sim._upload_json(upload))

    def _upload_base64(self) -> Response:
        if (denied := self._check_auth()) is not None:
            return denied
        data, problem = self._read_json()
        if data is None:
            assert problem is not None
            return problem
        encoded = data.get("file_data")
        if not isinstance(encoded, str) or not encoded.strip():
            return error_answer(422, "file_data is required (base64 text)", param="file_data")
        if encoded.startswith("data:") and "," in encoded:
            encoded = encoded.split(",", 1)[1]
        try:
            raw = base64.b64decode("".join(encoded.split()), validate=True)
        except (binascii.Error, ValueError):
            return error_answer(422, "file_data is not valid base64", param="file_data")
        if not raw:
            return error_answer(400, "The uploaded file is empty", code="empty_file", param="file")
        kind = sniff(raw[:SNIFF_BYTES])
        if kind in VIDEO_KINDS and not self.sim.config.upload_accepts_video:
            return self._refuse_video()
        file_name = data.get("file_name")
        name = file_name.strip() if isinstance(file_name, str) and file_name.strip() else "upload"
        partial = self.sim._partial_path()
        partial.write_bytes(raw)
        upload = self.sim._store_upload(partial, name, len(raw), kind)
        return json_answer(200, self.sim._upload_json(upload))

    def _refuse_video(self) -> Response:
        return error_answer(
            415,
            "Unsupported file type: only images (JPEG, PNG, GIF, WEBP) are accepted",
            code="unsupported_file_type",
            param="file",
        )

    def _create(self) -> Response:
        if (denied := self._check_auth()) is not None:
            return denied
        data, problem = self._read_json()
        if data is None:
            assert problem is not None
            return problem
        params, problem = validate_generation(data)
        if params is None:
            assert problem is not None
            return problem
        task = self.sim._create_task(params)
        return json_answer(200, self.sim._created_json(task))

    def _get_task(self, task_id: str) -> Response:
        if (denied := self._check_auth()) is not None:
            return denied
        body = self.sim._poll(task_id)
        if body is None:
            return error_answer(404, f"Task not found: {task_id}", "not_found", "task_not_found")
        return json_answer(200, body)

    def _get_file(self, file_id: str, name: str) -> Response:
        upload = self.sim._upload(file_id)
        if upload is None or name != upload.stored_name or not upload.path.is_file():
            return error_answer(404, "File not found", "not_found", "file_not_found")
        ctype = _CONTENT_TYPES.get(upload.kind or "", "application/octet-stream")
        return self._file_response(upload.path, ctype)

    def _get_result(self, task_id: str) -> Response:
        source = self.sim._result_source(task_id)
        if source is None:
            return error_answer(
                404, f"No result for task {task_id}", "not_found", "result_not_found"
            )
        if not source.is_file():
            return error_answer(404, "The result file is missing", "not_found", "result_missing")
        return self._file_response(source, "video/mp4")

    def _file_response(self, path: Path, content_type: str) -> Response:
        size = path.stat().st_size
        if not self.sim.config.serve_ranges:
            return Response(200, content_type=content_type, file=path, length=size,
                             headers=[("Cache-Control", "no-store")])
        headers = [("Accept-Ranges", "bytes"), ("Cache-Control", "no-store")]
        match = _RANGE.fullmatch((self.headers.get("Range") or "").strip())
        if match is None or match.group(1) == match.group(2) == "":
            return Response(200, content_type=content_type, headers=headers, file=path,
                             length=size)
        first, last = match.group(1), match.group(2)
        if first:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        else:
            start = max(0, size - int(last))
            end = size - 1
        if start >= size or end < start:
            response = error_answer(416, "Requested range not satisfiable", code="invalid_range")
            response.headers += [*headers, ("Content-Range", f"bytes */{size}")]
            return response
        headers.append(("Content-Range", f"bytes {start}-{end}/{size}"))
        return Response(206, content_type=content_type, headers=headers, file=path,
                         offset=start, length=end - start + 1)
