"""KlingClient against the real simulator over loopback sockets (no mocked transport).

Request counts come from ``sim.count``; waits between tries are recorded by an
injected ``sleep`` that does not sleep.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from kling_desktop import paths
from kling_desktop.api import (
    AuthenticationError,
    CancelledError,
    GenerationRequest,
    IncompleteDownloadError,
    InsecureBaseURLError,
    InsufficientBalanceError,
    InvalidRequestError,
    KlingClient,
    KlingError,
    LocalFileError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    RetryPolicy,
    ServerError,
    ServiceUnavailableError,
    SubmissionUncertainError,
    TaskStatus,
    UploadRefusedError,
    make_http_client,
    parse_retry_after,
    validate_base_url,
)
from kling_desktop.files import partial_path
from kling_desktop.simulator import Fault, Simulator
from tests.test_api_large_files import writer_threads

POLICY = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=2.0, max_retry_after=5.0,
                     jitter=0.25)
REQUEST = GenerationRequest(image_url="https://example.com/character.png",
                            video_url="https://example.com/motion.mp4")
HTML_502 = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


# ------------------------------------------------------------------ fixtures and helpers


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sim: Simulator, api_key: str, sleeps: list[float]) -> Iterator[KlingClient]:
    with KlingClient(sim.base_url, api_key, retry=POLICY, sleep=sleeps.append) as kling:
        yield kling


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """For the simulator's log after an aborted connection (it records asynchronously)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def assert_count(sim: Simulator, route: str, expected: int, status: int | None = None) -> None:
    """``sim.count`` once the simulator has logged the requests (it logs after answering)."""
    if expected:
        wait_until(lambda: sim.count(route, status) >= expected)
    assert sim.count(route, status) == expected


def dead_base_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def library_file(tmp_path: Path) -> Path:
    """Where a test saves its result: ``out.mp4`` in a ``library`` folder made for it."""
    dest = tmp_path / "library" / "out.mp4"
    dest.parent.mkdir()
    return dest


def completed_task(client: KlingClient, sim: Simulator) -> str:
    sim.config.polls_until_done = 1
    task = client.get_task(client.create_task(REQUEST).id)
    assert task.status is TaskStatus.COMPLETED
    assert task.result_url is not None
    return task.result_url


class _RecordingServer(ThreadingHTTPServer):
    """A second web server: records the Authorization header of every GET."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RecordingHandler)
        self.seen: list[tuple[str, str | None]] = []
        self.redirect_to = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _RecordingHandler(BaseHTTPRequestHandler):
    server: _RecordingServer

    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.headers.get("Authorization")))
        if self.path.startswith("/redirect"):
            self._answer(302, b"", [("Location", self.server.redirect_to)])
        elif self.path.startswith("/v1/"):
            self._answer(404, b"<html><title>Not Found</title></html>",
                         [("Content-Type", "text/html")])
        else:
            self._answer(200, b"video-bytes", [("Content-Type", "video/mp4")])

    def _answer(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def web() -> Iterator[Callable[[], _RecordingServer]]:
    servers: list[tuple[_RecordingServer, threading.Thread]] = []

    def start() -> _RecordingServer:
        server = _RecordingServer()
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return server

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(5)


# ------------------------------------------------------------------ addresses and setup


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.foxapi.cc/", "https://api.foxapi.cc"),
        ("  https://api.foxapi.cc  ", "https://api.foxapi.cc"),
        ("https://reseller.example/api/", "https://reseller.example/api"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("http://127.9.9.9", "http://127.9.9.9"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://[::1]:9000/", "http://[::1]:9000"),
    ],
)
def test_accepted_base_urls(url: str, expected: str) -> None:
    assert validate_base_url(url) == expected


@pytest.mark.parametrize(
    "url",
    ["http://api.foxapi.cc", "http://10.0.0.1", "http://192.168.1.2:80", "ftp://127.0.0.1",
     "api.foxapi.cc", "", "https://", "https://user:secret@api.foxapi.cc",
     "https://api.foxapi.cc/?key=1", "http://localhost.evil.example", "http://127.0.0.1.nip.io",
     "http://[::ffff:10.0.0.1]"],
)
def test_refused_base_urls(url: str, api_key: str) -> None:
    with pytest.raises(InsecureBaseURLError) as caught:
        validate_base_url(url)
    assert "secret" not in str(caught.value)
    with pytest.raises(InsecureBaseURLError):
        KlingClient(url, api_key)


def test_make_http_client_defaults() -> None:
    with make_http_client() as http:
        assert http.timeout.connect == 10.0
        assert http.timeout.read == 60.0
        assert http.follow_redirects is False
        assert http.headers["User-Agent"].startswith("kling-motion-studio/")


def test_unusable_proxy_is_a_network_error() -> None:
    with pytest.raises(NetworkError, match="proxy"):
        make_http_client(proxy="gopher://nope:1")


def test_unreachable_proxy_is_a_network_error(sim: Simulator, api_key: str,
                                             sleeps: list[float]) -> None:
    with make_http_client(proxy=dead_base_url()) as http:
        kling = KlingClient(sim.base_url, api_key, http=http, retry=POLICY, sleep=sleeps.append)
        with pytest.raises(NetworkError):
            kling.check_key()
    assert_count(sim, "any", 0)


def test_passed_in_http_client_is_not_closed(sim: Simulator, api_key: str) -> None:
    with make_http_client() as http:
        with KlingClient(sim.base_url, api_key, http=http) as kling:
            kling.check_key()
        assert not http.is_closed
    with KlingClient(sim.base_url, api_key) as owned:
        pass
    assert owned._http.is_closed


@pytest.mark.parametrize("key", ["sk test", "sk-\u00e9", "sk-a\nb", "", "  \n"])
def test_unusable_key_characters(key: str) -> None:
    with pytest.raises(AuthenticationError) as caught:
        KlingClient("https://api.foxapi.cc", key)
    if key.strip():
        assert key.strip() not in str(caught.value)


# ------------------------------------------------------------------ secrecy


def test_key_never_in_repr_str_or_attributes(client: KlingClient, api_key: str) -> None:
    assert repr(client) == f"KlingClient(base_url={client.base_url!r})"
    assert api_key not in str(client)
    assert all(api_key not in repr(value) for value in vars(client).values())


def test_provider_text_copied_into_errors_is_scrubbed(
    client: KlingClient, sim: Simulator, api_key: str
) -> None:
    sim.inject("task", Fault(400, "invalid_request_error", f"bad key {api_key} here",
                             code=api_key))
    with pytest.raises(InvalidRequestError) as caught:
        client.get_task("task-x")
    error = caught.value
    assert "bad key [redacted] here" in error.message
    for text in (str(error), repr(error), error.message, error.code or ""):
        assert api_key not in text
    sim.fail_next_task(message=f"upstream refused {api_key}")
    sim.config.polls_until_done = 1
    task = client.get_task(client.create_task(REQUEST).id)
    assert task.error is not None
    assert api_key not in task.error.message


def test_one_log_line_per_request_and_never_the_key(
    client: KlingClient, sim: Simulator, api_key: str, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    image = client.upload_file(paths.sample_character())
    sim.inject("create", Fault.rate_limited(retry_after=0))
    url = completed_task(client, sim)
    client.download(url, tmp_path / "out.mp4")
    with pytest.raises(NotFoundError):
        client.get_task("task-unknown")
    client.check_key()
    assert image.url
    assert api_key not in caplog.text
    assert all(api_key not in repr(r.args) for r in caplog.records)
    lines = [r.getMessage() for r in caplog.records if r.name == "kling_desktop.api"]
    assert_count(sim, "any", 7)
    assert len(lines) == 7
    assert lines[0].startswith("POST /v1/files/upload/stream -> 200 in ")
    assert lines[1].startswith("POST /v1/videos/generations -> 429 in ")
    assert all("Bearer" not in line and "127.0.0.1" not in line for line in lines)


# ------------------------------------------------------------------ endpoints


def test_full_round_trip(client: KlingClient, sim: Simulator, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    image = client.upload_file(paths.sample_character(), progress=lambda d, t: seen.append((d, t)))
    video = client.upload_file(paths.sample_motion())
    size = paths.sample_character().stat().st_size
    assert image.size == size
    assert seen[-1] == (size, size)
    assert image.filename == "character.png"
    created = client.create_task(GenerationRequest(image_url=image.url, video_url=video.url))
    assert created.status is TaskStatus.PENDING
    assert created.estimated_time == 45
    task = created
    for _ in range(5):
        task = client.get_task(created.id)
        if task.status.is_final:
            break
    assert task.status is TaskStatus.COMPLETED
    assert task.result_url is not None
    dest = tmp_path / "videos" / "result.mp4"
    assert client.download(task.result_url, dest) == dest
    assert dest.read_bytes() == paths.sample_result().read_bytes()
    assert sorted(p.name for p in dest.parent.iterdir()) == ["result.mp4"]
    assert_count(sim, "task", 3)


@pytest.mark.parametrize("shape", ["results_strings", "results_objects", "output"])
def test_each_result_shape(
    client: KlingClient, sim: Simulator, tmp_path: Path, shape: str
) -> None:
    sim.config.result_shape = shape
    url = completed_task(client, sim)
    client.download(url, tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == paths.sample_motion().read_bytes()


@pytest.mark.parametrize("field", ["error", "task_status_msg", "fail_reason"])
def test_failed_task_reason(client: KlingClient, sim: Simulator, field: str) -> None:
    sim.fail_next_task(code="risk_control", message="Sensitive content detected", field=field)
    sim.config.polls_until_done = 1
    task = client.get_task(client.create_task(REQUEST).id)
    assert task.status is TaskStatus.FAILED
    assert task.error is not None
    assert task.error.message == "Sensitive content detected"
    assert task.error.is_content_policy


def test_failed_task_without_reason_names_the_task(client: KlingClient, sim: Simulator) -> None:
    sim.fail_next_task(field="none")
    sim.config.polls_until_done = 1
    task_id = client.create_task(REQUEST).id
    task = client.get_task(task_id)
    assert task.error is not None
    assert task_id in task.error.message


def test_check_key(client: KlingClient, sim: Simulator, api_key: str) -> None:
    client.check_key()
    with (
        KlingClient(sim.base_url, "sk-wrong", retry=POLICY) as wrong,
        pytest.raises(AuthenticationError),
    ):
        wrong.check_key()
    assert_count(sim, "task", 1, 404)
    assert_count(sim, "task", 1, 401)


def test_check_key_on_a_web_server_that_is_not_the_api(
    web: Callable[[], _RecordingServer], api_key: str
) -> None:
    with (
        KlingClient(web().url, api_key) as kling,
        pytest.raises(MalformedResponseError),
    ):
        kling.check_key()


def test_check_key_unreachable_is_not_retried(api_key: str, sleeps: list[float]) -> None:
    with (
        KlingClient(dead_base_url(), api_key, retry=POLICY, sleep=sleeps.append) as kling,
        pytest.raises(NetworkError),
    ):
        kling.check_key()
    assert sleeps == []


# ------------------------------------------------------------------ error mapping


@pytest.mark.parametrize(
    ("fault", "error_class", "provider_text"),
    [
        (Fault.unauthorized(), AuthenticationError, "Invalid API key provided"),
        (Fault.no_balance(), InsufficientBalanceError, "Insufficient account balance"),
        (Fault(400, "invalid_request_error", "Invalid JSON in request body"),
         InvalidRequestError, "Invalid JSON"),
        (Fault(422, "invalid_request_error", "Invalid model 'x'"), InvalidRequestError,
         "Invalid model"),
        (Fault(403, "permission_error", "Key disabled"), AuthenticationError, "Key disabled"),
    ],
)
def test_refusals_are_typed_and_never_retried(
    client: KlingClient, sim: Simulator, sleeps: list[float], fault: Fault,
    error_class: type[KlingError], provider_text: str,
) -> None:
    calls: list[tuple[str, Callable[[], object]]] = [
        ("task", lambda: client.get_task("task-1")),
        ("create", lambda: client.create_task(REQUEST)),
    ]
    for route, call in calls:
        sim.inject(route, fault)
        with pytest.raises(error_class) as caught:
            call()
        assert type(caught.value) is error_class
        assert provider_text in caught.value.message
        assert caught.value.fix == error_class.default_fix
        assert caught.value.status == fault.status
        assert_count(sim, route, 1)
    assert sleeps == []


def test_real_validation_error_from_the_provider(client: KlingClient, sim: Simulator) -> None:
    bad = GenerationRequest(image_url="ftp://example.com/a.png", video_url=REQUEST.video_url)
    with pytest.raises(InvalidRequestError, match="image_url must be an http"):
        client.create_task(bad)
    assert_count(sim, "create", 1, 422)
    assert sim.task_ids == []


def test_unknown_task_is_not_found(client: KlingClient, sim: Simulator) -> None:
    with pytest.raises(NotFoundError, match="Task not found"):
        client.get_task("task-does-not-exist")
    assert_count(sim, "task", 1)


@pytest.mark.parametrize(
    ("fault", "fragment"),
    [
        (Fault(502, body=HTML_502, content_type="text/html"), "502 Bad Gateway"),
        (Fault(500, body=b'{"error": {"message": "Inter', content_type="application/json"),
         "(HTTP 500)."),
        (Fault(500, body=b""), "(HTTP 500)."),
    ],
)
def test_unreadable_error_bodies_still_give_a_clear_error(
    client: KlingClient, sim: Simulator, fault: Fault, fragment: str
) -> None:
    sim.inject("task", fault, times=POLICY.max_attempts)
    with pytest.raises(ServerError) as caught:
        client.get_task("task-1")
    assert caught.value.message.startswith(ServerError.default_message.rstrip("."))
    assert fragment in caught.value.message
    assert "{" not in caught.value.message
    assert_count(sim, "task", POLICY.max_attempts)


def test_garbage_success_body_is_malformed(client: KlingClient, sim: Simulator) -> None:
    sim.inject("task", Fault.garbage())
    with pytest.raises(MalformedResponseError):
        client.get_task("task-1")
    assert_count(sim, "task", 1)


# ------------------------------------------------------------------ retries: reads


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_get_task_retries_server_errors(
    client: KlingClient, sim: Simulator, sleeps: list[float], status: int
) -> None:
    task_id = client.create_task(REQUEST).id
    sim.inject("task", Fault(status), times=2)
    assert client.get_task(task_id).id == task_id
    assert_count(sim, "task", 3)
    assert len(sleeps) == 2
    assert 0.375 <= sleeps[0] <= 0.625
    assert 0.75 <= sleeps[1] <= 1.25


def test_get_task_gives_up_after_max_attempts(
    client: KlingClient, sim: Simulator, sleeps: list[float]
) -> None:
    sim.inject("task", Fault.server_error(), times=10)
    with pytest.raises(ServerError, match="Internal server error"):
        client.get_task("task-1")
    assert_count(sim, "task", POLICY.max_attempts)
    assert len(sleeps) == POLICY.max_attempts - 1
    assert all(s <= POLICY.max_delay for s in sleeps)


def test_rate_limit_honours_retry_after(
    client: KlingClient, sim: Simulator, sleeps: list[float]
) -> None:
    sim.inject("task", Fault.rate_limited(retry_after=3))
    sim.inject("task", Fault.rate_limited(retry_after=999))
    with pytest.raises(NotFoundError):
        client.get_task("task-1")
    assert sleeps == [3.0, POLICY.max_retry_after]
    assert_count(sim, "task", 2, 429)


def test_rate_limit_without_retry_after_backs_off(
    client: KlingClient, sim: Simulator, sleeps: list[float]
) -> None:
    sim.inject("task", Fault.rate_limited(retry_after=None), times=10)
    with pytest.raises(RateLimitedError) as caught:
        client.get_task("task-1")
    assert caught.value.retry_after is None
    assert caught.value.retryable
    assert_count(sim, "task", POLICY.max_attempts)
    assert 0.375 <= sleeps[0] <= 0.625
    assert sleeps[-1] <= POLICY.max_delay


def test_get_task_retries_a_read_timeout(sim: Simulator, api_key: str) -> None:
    task_id = ""
    sim.config.latency = 1.0

    def sleep(_: float) -> None:
        sim.config.latency = 0.0

    with make_http_client(timeout=httpx.Timeout(0.2, connect=5.0)) as http:
        kling = KlingClient(sim.base_url, api_key, http=http, retry=POLICY, sleep=sleep)
        sim.config.latency = 0.0
        task_id = kling.create_task(REQUEST).id
        sim.config.latency = 1.0
        assert kling.get_task(task_id).id == task_id
    assert_count(sim, "task", 2)


def test_get_task_retries_a_broken_answer(client: KlingClient, sim: Simulator) -> None:
    task_id = client.create_task(REQUEST).id
    sim.inject("task", Fault(200, cut_after=20))
    assert client.get_task(task_id).id == task_id
    assert_count(sim, "task", 2)


def test_get_task_retries_connection_errors(api_key: str, sleeps: list[float]) -> None:
    with (
        KlingClient(dead_base_url(), api_key, retry=POLICY, sleep=sleeps.append) as kling,
        pytest.raises(NetworkError),
    ):
        kling.get_task("task-1")
    assert len(sleeps) == POLICY.max_attempts - 1


def test_cancel_stops_the_wait_between_tries(client: KlingClient, sim: Simulator,
                                             api_key: str) -> None:
    cancel = threading.Event()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        cancel.set()

    sim.inject("task", Fault.rate_limited(retry_after=5), times=3)
    with (
        KlingClient(sim.base_url, api_key, retry=POLICY, sleep=sleep) as kling,
        pytest.raises(CancelledError),
    ):
        kling.get_task("task-1", cancel=cancel)
    assert_count(sim, "task", 1)
    assert slept == [0.2]  # waits are cut into short steps when cancellable


# ------------------------------------------------------------------ retries: create (money)


@pytest.mark.parametrize("status", [500, 502, 504])
def test_create_server_error_is_uncertain_and_never_retried(
    client: KlingClient, sim: Simulator, sleeps: list[float], status: int
) -> None:
    sim.inject("create", Fault(status, message="upstream blew up"), times=3)
    with pytest.raises(SubmissionUncertainError) as caught:
        client.create_task(REQUEST)
    assert_count(sim, "create", 1)
    assert sleeps == []
    assert caught.value.status == status
    assert "upstream blew up" in caught.value.message
    assert not caught.value.retryable


def test_create_500_but_accepted(client: KlingClient, sim: Simulator) -> None:
    sim.inject("create", Fault(500, accept_anyway=True))
    with pytest.raises(SubmissionUncertainError):
        client.create_task(REQUEST)
    assert_count(sim, "create", 1)
    assert len(sim.task_ids) == 1


def test_create_garbage_success_is_uncertain(client: KlingClient, sim: Simulator) -> None:
    sim.inject("create", Fault.garbage())
    with pytest.raises(SubmissionUncertainError):
        client.create_task(REQUEST)
    assert_count(sim, "create", 1)


def test_create_answer_cut_off_is_uncertain(client: KlingClient, sim: Simulator) -> None:
    sim.inject("create", Fault(200, cut_after=30))
    with pytest.raises(SubmissionUncertainError):
        client.create_task(REQUEST)
    assert_count(sim, "create", 1)
    assert len(sim.task_ids) == 1


def test_create_read_timeout_is_uncertain(
    sim: Simulator, api_key: str, sleeps: list[float]
) -> None:
    sim.config.latency = 1.0
    with make_http_client(timeout=httpx.Timeout(0.2, connect=5.0)) as http:
        kling = KlingClient(sim.base_url, api_key, http=http, retry=POLICY, sleep=sleeps.append)
        with pytest.raises(SubmissionUncertainError, match="did not answer in time"):
            kling.create_task(REQUEST)
    assert_count(sim, "create", 1)
    assert sleeps == []
    assert len(sim.task_ids) == 1


@pytest.mark.parametrize(
    ("fault", "times"),
    [(Fault.rate_limited(retry_after=1), 2), (Fault.unavailable(), 2), (Fault.no_channel(), 1)],
)
def test_create_retries_what_proves_no_task_was_made(
    client: KlingClient, sim: Simulator, sleeps: list[float], fault: Fault, times: int
) -> None:
    sim.inject("create", fault, times=times)
    task = client.create_task(REQUEST)
    assert_count(sim, "create", times + 1)
    assert sim.task_ids == [task.id]
    assert len(sleeps) == times


def test_create_gives_up_on_rate_limit(client: KlingClient, sim: Simulator) -> None:
    sim.inject("create", Fault.rate_limited(retry_after=2), times=10)
    with pytest.raises(RateLimitedError) as caught:
        client.create_task(REQUEST)
    assert caught.value.retry_after == 2.0
    assert_count(sim, "create", POLICY.max_attempts)
    assert sim.task_ids == []


def test_create_no_channel_is_service_unavailable(client: KlingClient, sim: Simulator) -> None:
    sim.inject("create", Fault.no_channel(), times=10)
    sim.inject("task", Fault(422, "invalid_request_error", "No available channel for model"),
               times=POLICY.max_attempts)
    with pytest.raises(ServiceUnavailableError, match="no available channel"):
        client.create_task(REQUEST)
    with pytest.raises(ServiceUnavailableError):  # by message, whatever the type says
        client.get_task("task-1")


def test_create_retries_connection_refused(api_key: str, sleeps: list[float]) -> None:
    with (
        KlingClient(dead_base_url(), api_key, retry=POLICY, sleep=sleeps.append) as kling,
        pytest.raises(NetworkError) as caught,
    ):
        kling.create_task(REQUEST)
    assert not isinstance(caught.value, SubmissionUncertainError)
    assert len(sleeps) == POLICY.max_attempts - 1


# ------------------------------------------------------------------ uploads


def test_upload_retries_rate_limit_and_unavailable(
    client: KlingClient, sim: Simulator, sleeps: list[float]
) -> None:
    sim.inject("upload", Fault.rate_limited(retry_after=1))
    sim.inject("upload", Fault.unavailable())
    seen: list[tuple[int, int]] = []
    uploaded = client.upload_file(paths.sample_motion(), progress=lambda d, t: seen.append((d, t)))
    size = paths.sample_motion().stat().st_size
    assert uploaded.size == size
    assert_count(sim, "upload", 3)
    assert len(sleeps) == 2
    assert sleeps[0] == 1.0
    assert seen[-1] == (size, size)


def test_video_upload_refused(client: KlingClient, sim: Simulator, sleeps: list[float]) -> None:
    sim.config.upload_accepts_video = False
    with pytest.raises(UploadRefusedError) as caught:
        client.upload_file(paths.sample_motion())
    assert caught.value.status == 415
    assert "only images" in caught.value.message
    assert "https://" in caught.value.fix
    assert_count(sim, "upload", 1)
    assert sleeps == []
    assert client.upload_file(paths.sample_character()).url  # images still go through


@pytest.mark.parametrize(
    "fault",
    [Fault(413, message="Request entity too large"), Fault(400, message="file too big"),
     Fault(200, body=b'{"error": {"message": "File quota reached (2000 files)"}}')],
)
def test_upload_refusals_are_never_retried(
    client: KlingClient, sim: Simulator, sleeps: list[float], fault: Fault
) -> None:
    sim.inject("upload", fault, times=3)
    with pytest.raises(UploadRefusedError):
        client.upload_file(paths.sample_character())
    assert_count(sim, "upload", 1)
    assert sleeps == []


@pytest.mark.parametrize(
    ("fault", "error_class"),
    [(Fault.server_error(), ServerError), (Fault.unauthorized(), AuthenticationError),
     (Fault.garbage(), MalformedResponseError)],
)
def test_upload_other_failures(
    client: KlingClient, sim: Simulator, fault: Fault, error_class: type[KlingError]
) -> None:
    sim.inject("upload", fault, times=3)
    with pytest.raises(error_class):
        client.upload_file(paths.sample_character())
    assert_count(sim, "upload", 1)


def test_cancel_during_upload(client: KlingClient, sim: Simulator, tmp_path: Path) -> None:
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(4 * 1024 * 1024))
    cancel = threading.Event()
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        cancel.set()

    with pytest.raises(CancelledError):
        client.upload_file(big, progress=progress, cancel=cancel)
    assert seen == [64 * 1024]
    assert_count(sim, "upload", 1)
    assert sim.count("upload", 200) == 0
    cancel.clear()
    assert client.upload_file(big).size == big.stat().st_size  # the connection pool recovered


def test_cancelled_before_start_sends_nothing(client: KlingClient, sim: Simulator,
                                              tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(CancelledError):
        client.upload_file(paths.sample_character(), cancel=cancel)
    with pytest.raises(CancelledError):
        client.get_task("task-1", cancel=cancel)
    with pytest.raises(CancelledError):
        client.download(f"{sim.base_url}/results/x.mp4", tmp_path / "x.mp4", cancel=cancel)
    assert_count(sim, "any", 0)


# ------------------------------------------------------------------ downloads


def test_download_progress_and_atomic_replace(
    client: KlingClient, sim: Simulator, tmp_path: Path
) -> None:
    payload = os.urandom(3 * 1024 * 1024 + 17)
    source = tmp_path / "clip.mp4"
    source.write_bytes(payload)
    url = client.upload_file(source).url
    dest = tmp_path / "out" / "clip.mp4"
    dest.parent.mkdir()
    dest.write_bytes(b"previous version")
    seen: list[tuple[int, int]] = []
    client.download(url, dest, progress=lambda d, t: seen.append((d, t)))
    assert dest.read_bytes() == payload
    assert seen[-1] == (len(payload), len(payload))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert os.listdir(dest.parent) == ["clip.mp4"]


def test_download_cut_once_is_retried(
    client: KlingClient, sim: Simulator, tmp_path: Path, sleeps: list[float]
) -> None:
    url = completed_task(client, sim)
    sim.inject("download", Fault.cut_download(100_000))
    client.download(url, tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == paths.sample_motion().read_bytes()
    assert_count(sim, "download", 2)
    assert len(sleeps) == 1


def test_download_cut_every_time_leaves_only_the_partial(
    client: KlingClient, sim: Simulator, tmp_path: Path
) -> None:
    url = completed_task(client, sim)
    sim.inject("download", Fault.cut_download(1000), times=POLICY.max_attempts)
    folder = tmp_path / "library"
    with pytest.raises(IncompleteDownloadError) as caught:
        client.download(url, folder / "out.mp4")
    assert caught.value.retryable
    assert_count(sim, "download", POLICY.max_attempts)
    # Each try resumed where the cut left it: the partial grew, nothing else appeared.
    assert [p.name for p in folder.iterdir()] == [".out.mp4.part"]
    assert (folder / ".out.mp4.part").stat().st_size == POLICY.max_attempts * 1000


def test_download_keeps_the_previous_file_on_failure(
    client: KlingClient, sim: Simulator, tmp_path: Path
) -> None:
    url = completed_task(client, sim)
    dest = library_file(tmp_path)
    dest.write_bytes(b"old")
    sim.inject("download", Fault.cut_download(10), times=POLICY.max_attempts)
    with pytest.raises(IncompleteDownloadError):
        client.download(url, dest)
    assert dest.read_bytes() == b"old"
    assert sorted(os.listdir(dest.parent)) == [".out.mp4.part", "out.mp4"]


def test_local_file_problems_are_typed(client: KlingClient, sim: Simulator,
                                       tmp_path: Path) -> None:
    with pytest.raises(LocalFileError, match=r"missing\.mp4"):
        client.upload_file(tmp_path / "missing.mp4")
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")
    with pytest.raises(LocalFileError):
        client.download(f"{sim.base_url}/results/x.mp4", blocker / "out.mp4")
    assert_count(sim, "any", 0)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_full_disk_while_writing_the_video_is_a_local_file_problem(
    client: KlingClient, sim: Simulator, tmp_path: Path
) -> None:
    # The partial file is a link to /dev/full: every write fails with "No space left on
    # device", on the writer thread. The download must end with the file system's error
    # (not hang on the writer, not save anything, not call the provider again).
    url = completed_task(client, sim)
    dest = library_file(tmp_path)
    partial_path(dest).symlink_to("/dev/full")
    with pytest.raises(LocalFileError, match="space") as caught:
        client.download(url, dest)
    assert "disk space" in caught.value.fix
    assert not dest.exists()
    assert_count(sim, "download", 1)
    assert not writer_threads()


def test_download_not_found(client: KlingClient, sim: Simulator, tmp_path: Path) -> None:
    folder = tmp_path / "library"
    with pytest.raises(NotFoundError):
        client.download(f"{sim.base_url}/results/task-nope.mp4", folder / "x.mp4")
    assert_count(sim, "download", 1)
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("status", [401, 403, 410])
def test_download_link_refused_means_expired(
    client: KlingClient, sim: Simulator, tmp_path: Path, status: int
) -> None:
    url = completed_task(client, sim)
    sim.inject("download", Fault(status, message="Request has expired"))
    with pytest.raises(NotFoundError, match="may have expired") as caught:
        client.download(url, tmp_path / "x.mp4")
    assert type(caught.value) is NotFoundError
    assert caught.value.status == status
    assert "generate it again" in caught.value.fix
    assert_count(sim, "download", 1)


def test_download_retries_server_errors(
    client: KlingClient, sim: Simulator, tmp_path: Path
) -> None:
    url = completed_task(client, sim)
    sim.inject("download", Fault.server_error(), times=2)
    client.download(url, tmp_path / "out.mp4")
    assert_count(sim, "download", 3)


def test_cancel_during_download(client: KlingClient, sim: Simulator, tmp_path: Path) -> None:
    url = completed_task(client, sim)
    cancel = threading.Event()
    folder = tmp_path / "library"
    with pytest.raises(CancelledError):
        client.download(url, folder / "out.mp4", progress=lambda d, t: cancel.set(),
                        cancel=cancel)
    # The partial stays for a later resume; nothing at the destination.
    assert [p.name for p in folder.iterdir()] == [".out.mp4.part"]
    assert_count(sim, "download", 1)


@pytest.mark.parametrize(
    "url", ["http://cdn.example.com/out.mp4", "ftp://127.0.0.1/out.mp4", "out.mp4", ""]
)
def test_download_refuses_insecure_links(client: KlingClient, sim: Simulator, tmp_path: Path,
                                         url: str) -> None:
    with pytest.raises(InsecureBaseURLError):
        client.download(url, tmp_path / "x.mp4")
    assert_count(sim, "any", 0)


def test_key_is_sent_only_to_the_providers_origin(
    web: Callable[[], _RecordingServer], api_key: str, tmp_path: Path
) -> None:
    provider, cdn = web(), web()
    provider.redirect_to = f"{cdn.url}/after-redirect.mp4"
    with KlingClient(provider.url, api_key, retry=POLICY) as kling:
        kling.download(f"{provider.url}/same-origin.mp4", tmp_path / "a.mp4")
        kling.download(f"{cdn.url}/other-origin.mp4", tmp_path / "b.mp4")
        kling.download(f"{provider.url}/redirect", tmp_path / "c.mp4")
    assert provider.seen == [("/same-origin.mp4", f"Bearer {api_key}"),
                             ("/redirect", f"Bearer {api_key}")]
    assert cdn.seen == [("/other-origin.mp4", None), ("/after-redirect.mp4", None)]
    assert (tmp_path / "c.mp4").read_bytes() == b"video-bytes"


# ------------------------------------------------------------------ retry policy


def test_backoff_grows_with_jitter_and_cap() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=30.0, jitter=0.25)
    for attempt, centre in ((1, 1.0), (2, 2.0), (3, 4.0), (5, 16.0)):
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(centre * 0.75 <= d <= centre * 1.25 for d in delays)
        assert len(set(delays)) > 1
    assert all(22.5 <= policy.delay(n) <= 30.0 for n in (6, 10, 1000))
    assert RetryPolicy(jitter=0.0).delay(3) == 4.0


def test_retry_after_wins_and_is_capped() -> None:
    policy = RetryPolicy(max_retry_after=120.0)
    assert policy.delay(1, retry_after=7.0) == 7.0
    assert policy.delay(4, retry_after=0.0) == 0.0
    assert policy.delay(1, retry_after=10_000.0) == 120.0
    assert 0.75 <= policy.delay(1, retry_after=float("nan")) <= 1.25


@pytest.mark.parametrize(
    "kwargs", [{"max_attempts": 0}, {"base_delay": -1.0}, {"jitter": 1.5}, {"max_delay": -2.0}]
)
def test_invalid_policies(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_parse_retry_after() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True),
                             now=now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2020 00:00:00 GMT", now=now) == 0.0
    for unusable in (None, "", "-3", "soon", "nan", "inf", "Mon, 99 Foo 2025"):
        assert parse_retry_after(unusable) is None
