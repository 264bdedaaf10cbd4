"""KlingClient against a hostile provider: every answer is bounded, cleaned and distrusted.

The provider is the real simulator over loopback, misbehaving through ``sim.inject``.
One test per defect of issue #11 (items 2-4) and issue #10 (download resume).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kling_desktop import paths
from kling_desktop.api import (
    GenerationRequest,
    IncompleteDownloadError,
    InsecureBaseURLError,
    InsufficientBalanceError,
    KlingClient,
    KlingError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ResultTooLargeError,
    RetryPolicy,
    ServiceUnavailableError,
    SubmissionUncertainError,
    Task,
    TaskStatus,
    parse_task,
    validate_id,
)
from kling_desktop.simulator import Fault, Simulator

POLICY = RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=2.0, max_retry_after=5.0)
ONE_TRY = RetryPolicy(max_attempts=1)
REQUEST = GenerationRequest(image_url="https://example.com/character.png",
                            video_url="https://example.com/motion.mp4")
MiB = 1024 * 1024


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sim: Simulator, api_key: str, sleeps: list[float]) -> Iterator[KlingClient]:
    with KlingClient(sim.base_url, api_key, retry=POLICY, sleep=sleeps.append) as kling:
        yield kling


def wait_until_logged(sim: Simulator, route: str, expected: int) -> None:
    deadline = time.monotonic() + 5.0
    while sim.count(route) < expected:
        assert time.monotonic() < deadline, "the simulator did not log the request"
        time.sleep(0.01)


def completed_url(client: KlingClient, sim: Simulator) -> str:
    sim.config.polls_until_done = 1
    task = client.get_task(client.create_task(REQUEST).id)
    assert task.status is TaskStatus.COMPLETED
    assert task.result_url is not None
    return task.result_url


def partial_of(dest: Path) -> Path:
    return dest.parent / f".{dest.name}.part"


def all_text(value: object) -> str:
    """Every string reachable from ``value`` (dataclasses, dicts, sequences, errors)."""
    if isinstance(value, KlingError):
        return " ".join([str(value), repr(value), all_text(vars(value))])
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return " ".join(all_text(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, dict):
        return " ".join(all_text(k) + " " + all_text(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return " ".join(all_text(v) for v in value)
    return str(value)


# ------------------------------------------------------------------ results


def test_html_result_is_refused(client: KlingClient, sim: Simulator, tmp_path: Path) -> None:
    url = completed_url(client, sim)
    sim.inject("download", Fault.garbage())
    dest = tmp_path / "lib" / "out.mp4"
    with pytest.raises(MalformedResponseError):
        client.download(url, dest)
    assert list(dest.parent.iterdir()) == []
    assert sim.count("download") == 1


def test_empty_result_is_refused(client: KlingClient, sim: Simulator, tmp_path: Path) -> None:
    url = completed_url(client, sim)
    sim.inject("download", Fault.empty())
    dest = tmp_path / "lib" / "out.mp4"
    with pytest.raises(MalformedResponseError, match="empty"):
        client.download(url, dest)
    assert list(dest.parent.iterdir()) == []


def test_endless_result_stops_at_the_cap(
    client: KlingClient, sim: Simulator, tmp_path: Path
) -> None:
    url = completed_url(client, sim)
    sim.inject("download", Fault.endless())
    dest = tmp_path / "lib" / "out.mp4"
    with pytest.raises(ResultTooLargeError) as caught:
        client.download(url, dest, max_bytes=2 * MiB)
    assert not caught.value.retryable
    assert "not a video result" in caught.value.message
    assert list(dest.parent.iterdir()) == []
    assert sim.count("download") == 1


def test_oversized_declared_length_is_refused_before_reading(
    client: KlingClient, sim: Simulator, tmp_path: Path
) -> None:
    url = completed_url(client, sim)
    with pytest.raises(ResultTooLargeError):
        client.download(url, tmp_path / "out.mp4", max_bytes=1000)
    assert not partial_of(tmp_path / "out.mp4").exists()


def test_gzip_bomb_result_stops_at_the_cap(
    client: KlingClient, sim: Simulator, tmp_path: Path
) -> None:
    url = completed_url(client, sim)
    sim.inject("download", Fault.gzip_bomb(64 * MiB))
    dest = tmp_path / "lib" / "out.mp4"
    with pytest.raises(ResultTooLargeError):
        client.download(url, dest, max_bytes=2 * MiB)
    assert list(dest.parent.iterdir()) == []


def test_gzip_bomb_api_answer_stops_at_the_json_cap(client: KlingClient, sim: Simulator) -> None:
    sim.inject("task", Fault.gzip_bomb(3 * MiB))
    with pytest.raises(MalformedResponseError, match="large"):
        client.get_task("task-bomb")


def test_result_stall_is_a_retryable_network_error(
    sim: Simulator, api_key: str, tmp_path: Path
) -> None:
    with KlingClient(sim.base_url, api_key, retry=ONE_TRY, stall_timeout=0.5) as kling:
        url = completed_url(kling, sim)
        sim.inject("download", Fault.dribble(2.0))
        started = time.monotonic()
        with pytest.raises(NetworkError) as caught:
            kling.download(url, tmp_path / "out.mp4")
    assert caught.value.retryable
    assert time.monotonic() - started < 5.0


# ------------------------------------------------------------------ resume (issue #10)


def test_cut_download_resumes_with_range(
    client: KlingClient, sim: Simulator, tmp_path: Path
) -> None:
    url = completed_url(client, sim)
    sim.inject("download", Fault.cut_download(100_000))
    dest = tmp_path / "out.mp4"
    client.download(url, dest)
    assert dest.read_bytes() == paths.sample_motion().read_bytes()
    wait_until_logged(sim, "download", 2)
    assert [r.status for r in sim.requests if r.route == "download"] == [200, 206]
    assert not partial_of(dest).exists()


def test_partial_left_by_an_earlier_run_is_resumed(
    client: KlingClient, sim: Simulator, tmp_path: Path
) -> None:
    url = completed_url(client, sim)
    source = paths.sample_motion().read_bytes()
    dest = tmp_path / "out.mp4"
    partial_of(dest).write_bytes(source[:50_000])
    seen: list[tuple[int, int]] = []
    client.download(url, dest, progress=lambda d, t: seen.append((d, t)))
    assert dest.read_bytes() == source
    assert [r.status for r in sim.requests if r.route == "download"] == [206]
    assert seen[-1] == (len(source), len(source))
    assert seen[0][0] > 50_000


def test_server_ignoring_range_restarts_from_zero(
    client: KlingClient, sim: Simulator, tmp_path: Path
) -> None:
    url = completed_url(client, sim)
    sim.config.serve_ranges = False
    dest = tmp_path / "out.mp4"
    partial_of(dest).write_bytes(b"not the start of this video" * 100)
    client.download(url, dest)
    assert dest.read_bytes() == paths.sample_motion().read_bytes()
    assert [r.status for r in sim.requests if r.route == "download"] == [200]


def test_partial_as_long_as_the_video_restarts(
    client: KlingClient, sim: Simulator, tmp_path: Path
) -> None:
    url = completed_url(client, sim)
    source = paths.sample_motion().read_bytes()
    dest = tmp_path / "out.mp4"
    partial_of(dest).write_bytes(source + b"extra")
    client.download(url, dest)
    assert dest.read_bytes() == source


def test_cut_every_time_keeps_the_partial_for_later(
    sim: Simulator, api_key: str, tmp_path: Path
) -> None:
    dest = tmp_path / "out.mp4"
    with KlingClient(sim.base_url, api_key, retry=ONE_TRY) as kling:
        url = completed_url(kling, sim)
        sim.inject("download", Fault.cut_download(70_000))
        with pytest.raises(IncompleteDownloadError):
            kling.download(url, dest)
        assert partial_of(dest).stat().st_size == 70_000
        assert not dest.exists()
        kling.download(url, dest)
    assert dest.read_bytes() == paths.sample_motion().read_bytes()


def test_fresh_link_after_a_gone_one(client: KlingClient, sim: Simulator, tmp_path: Path) -> None:
    sim.config.fresh_result_links = True
    first = completed_url(client, sim)
    sim.inject("download", Fault(404, "not_found", "expired"))
    with pytest.raises(NotFoundError):
        client.download(first, tmp_path / "out.mp4")
    task_id = sim.task_ids[-1]
    second = client.get_task(task_id).result_url
    assert second is not None
    assert second != first
    client.download(second, tmp_path / "out.mp4")
    assert (tmp_path / "out.mp4").read_bytes() == paths.sample_motion().read_bytes()


# ------------------------------------------------------------------ links and redirects


def test_redirect_through_plain_http_is_refused_at_the_hop(
    client: KlingClient, sim: Simulator, tmp_path: Path
) -> None:
    url = completed_url(client, sim)
    sim.inject("download", Fault.redirect("http://example.invalid/out.mp4"))
    dest = tmp_path / "lib" / "out.mp4"
    with pytest.raises(InsecureBaseURLError):
        client.download(url, dest)
    assert list(dest.parent.iterdir()) == []
    assert sim.count("download") == 1


def test_authorization_goes_to_no_other_origin(
    client: KlingClient, sim: Simulator, tmp_path: Path
) -> None:
    url = completed_url(client, sim)
    # localhost is another origin than 127.0.0.1, yet the same simulator.
    other = url.replace("127.0.0.1", "localhost")
    sim.inject("download", Fault.redirect(other))
    sim.inject("download", Fault.redirect(url))
    sim.reset_log()
    client.download(url, tmp_path / "x.mp4")
    hops = [r for r in sim.requests if r.route == "download"]
    assert [r.status for r in hops] == [302, 302, 200]
    assert [r.authorized for r in hops] == [True, False, False]


def test_too_many_redirects(client: KlingClient, sim: Simulator, tmp_path: Path) -> None:
    url = completed_url(client, sim)
    sim.inject("download", Fault.redirect(url), times=10)
    with pytest.raises(MalformedResponseError, match="redirect"):
        client.download(url, tmp_path / "x.mp4")
    assert sim.count("download") == 6


# ------------------------------------------------------------------ deadlines


def test_dribbling_poll_fails_at_its_deadline(sim: Simulator, api_key: str) -> None:
    task_id = None
    with KlingClient(sim.base_url, api_key, retry=ONE_TRY, api_deadline=1.0) as kling:
        task_id = kling.create_task(REQUEST).id
        sim.inject("task", Fault.dribble(0.2))
        started = time.monotonic()
        with pytest.raises(NetworkError) as caught:
            kling.get_task(task_id)
        elapsed = time.monotonic() - started
    assert caught.value.retryable
    assert 0.9 < elapsed < 3.0


def test_dribbling_create_is_uncertain_at_its_deadline(sim: Simulator, api_key: str) -> None:
    with KlingClient(sim.base_url, api_key, retry=POLICY, create_deadline=1.0) as kling:
        sim.inject("create", Fault.dribble(0.2))
        started = time.monotonic()
        with pytest.raises(SubmissionUncertainError):
            kling.create_task(REQUEST)
    assert time.monotonic() - started < 3.0
    assert sim.count("create") == 1


# ------------------------------------------------------------------ what the provider says


def test_key_echoed_in_every_field_is_scrubbed(
    client: KlingClient, sim: Simulator, api_key: str
) -> None:
    sim.fail_next_task(code=api_key, message=f"no {api_key}", error_type=api_key, field="all")
    sim.config.polls_until_done = 1
    created = client.create_task(REQUEST)
    sim.inject("task", Fault.patched(model=api_key, usage={api_key: api_key, "k": api_key}))
    failed = client.get_task(created.id)
    assert failed.status is TaskStatus.FAILED
    assert failed.error is not None
    sim.inject("task", Fault.patched(status=f"weird {api_key}"))
    weird = client.get_task(created.id)
    assert weird.status is TaskStatus.UNKNOWN
    sim.inject("task", Fault(400, error_type=api_key, message=api_key, code=api_key))
    with pytest.raises(KlingError) as caught:
        client.get_task(created.id)
    for value in (failed, weird, caught.value):
        assert api_key not in all_text(value)
    assert "[redacted]" in all_text(failed)


def test_bidi_and_control_characters_are_stripped(client: KlingClient, sim: Simulator) -> None:
    sim.fail_next_task(message="pay \u202egpj.exe\u202c now\x1b[31m", field="all")
    sim.config.polls_until_done = 1
    task = client.get_task(client.create_task(REQUEST).id)
    assert task.error is not None
    assert task.error.message == "pay gpj.exe now [31m"


@pytest.mark.parametrize("bad", ["..", ".", ".hidden", "a/b", "x" * 129, "id\u202e", "", "a b"])
def test_bad_created_id_is_uncertain(client: KlingClient, sim: Simulator, bad: str) -> None:
    sim.inject("create", Fault.patched(id=bad))
    with pytest.raises(SubmissionUncertainError):
        client.create_task(REQUEST)
    assert sim.count("create") == 1


def test_created_id_holding_the_key_is_uncertain(
    client: KlingClient, sim: Simulator, api_key: str
) -> None:
    sim.inject("create", Fault.patched(id=api_key))
    with pytest.raises(SubmissionUncertainError) as caught:
        client.create_task(REQUEST)
    assert api_key not in all_text(caught.value)


@pytest.mark.parametrize("bad", ["..", ".", "../v1", "a/b", "", " x", "x" * 200])
def test_bad_id_is_never_polled(client: KlingClient, sim: Simulator, bad: str) -> None:
    with pytest.raises(MalformedResponseError):
        client.get_task(bad)
    assert sim.requests == []


def test_unreadable_create_answer_is_logged_scrubbed(
    client: KlingClient, sim: Simulator, api_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="kling_desktop.api")
    body = b"<html>upstream says: " + api_key.encode() + b"\x1b]0;" + b"x" * 10_000 + b"</html>"
    sim.inject("create", Fault(200, body=body, content_type="text/html"))
    with pytest.raises(SubmissionUncertainError):
        client.create_task(REQUEST)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "upstream says: [redacted]" in warnings[0]
    assert api_key not in caplog.text
    assert "\x1b" not in warnings[0]
    assert len(warnings[0]) < 2600


def test_unknown_status_is_kept_not_refused(client: KlingClient, sim: Simulator) -> None:
    created = client.create_task(REQUEST)
    sim.inject("task", Fault.patched(status="Queued-Upstream"))
    task = client.get_task(created.id)
    assert task.status is TaskStatus.UNKNOWN
    assert not task.status.is_final
    assert task.raw_status == "Queued-Upstream"


def test_completed_without_link_parses(client: KlingClient, sim: Simulator) -> None:
    created = client.create_task(REQUEST)
    sim.inject("task", Fault.patched(status="completed", drop=("results", "output")))
    task = client.get_task(created.id)
    assert task.status is TaskStatus.COMPLETED
    assert task.result_url is None


def test_usage_and_model_reported_by_the_provider(client: KlingClient, sim: Simulator) -> None:
    created = client.create_task(REQUEST)
    sim.inject("task", Fault.patched(
        model="kling-v2-6-motion-control",
        usage={"credits_reserved": 5, "user_group": "default", "nested": {"a": 1.5}},
        final_unit_deduction="12", cost=0.65,
    ))
    task = client.get_task(created.id)
    assert task.model == "kling-v2-6-motion-control"
    assert task.usage == {"credits_reserved": 5, "user_group": "default", "nested.a": 1.5,
                          "final_unit_deduction": "12", "cost": 0.65}


def test_sync_upstream_is_asked_only_when_wanted(client: KlingClient, sim: Simulator) -> None:
    created = client.create_task(REQUEST)
    client.get_task(created.id)
    client.get_task(created.id, sync_upstream=True)
    polls = [r for r in sim.requests if r.route == "task"]
    assert [r.query for r in polls] == ["", "sync_upstream=true"]


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize("code", ["1101", "1102"])
def test_kling_no_balance_429_is_never_retried(
    client: KlingClient, sim: Simulator, sleeps: list[float], code: str
) -> None:
    sim.inject("create", Fault(429, "rate_limit_error", "account balance not enough", code=code))
    with pytest.raises(InsufficientBalanceError):
        client.create_task(REQUEST)
    sim.inject("task", Fault(429, "rate_limit_error", "package expired", code=code))
    with pytest.raises(InsufficientBalanceError):
        client.get_task("task-1")
    assert sim.count("create") == 1
    assert sim.count("task") == 1
    assert sleeps == []


def test_kling_1303_is_a_rate_limit(client: KlingClient, sim: Simulator) -> None:
    sim.inject("create", Fault(429, "rate_limit_error", "parallel task over resource pack limit",
                               code="1303", retry_after=2))
    with pytest.raises(RateLimitedError) as caught:
        client.create_task(REQUEST, retry=False)
    assert caught.value.retry_after == 2.0


def test_kling_1103_is_permission_denied(client: KlingClient, sim: Simulator) -> None:
    sim.inject("create", Fault(403, "permission_error", "no permission for model", code="1103"))
    with pytest.raises(PermissionDeniedError):
        client.create_task(REQUEST)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [(Fault.rate_limited(retry_after=7), RateLimitedError),
     (dataclasses.replace(Fault.unavailable(), retry_after=9), ServiceUnavailableError),
     (Fault.no_channel(), ServiceUnavailableError)],
)
def test_create_without_retry_raises_at_once(
    client: KlingClient, sim: Simulator, sleeps: list[float], fault: Fault,
    expected: type[KlingError],
) -> None:
    sim.inject("create", fault, times=3)
    with pytest.raises(expected) as caught:
        client.create_task(REQUEST, retry=False)
    assert sim.count("create") == 1
    assert sleeps == []
    assert getattr(caught.value, "retry_after", "missing") == fault.retry_after


def test_get_task_without_retry(client: KlingClient, sim: Simulator, sleeps: list[float]) -> None:
    sim.inject("task", Fault.server_error())
    with pytest.raises(KlingError):
        client.get_task("task-1", retry=False)
    assert sim.count("task") == 1
    assert sleeps == []


# ------------------------------------------------------------------ parse helpers


@pytest.mark.parametrize("good", ["task-unified-1757165031-uyujaw3d", "a", "file_1.mp4",
                                  "ns:task:1", "x" * 128, 12345])
def test_validate_id_accepts(good: object) -> None:
    assert validate_id(good, what="task id") == str(good)


@pytest.mark.parametrize("bad", ["..", ".", ".x", "a/b", "a\\b", "x" * 129, "", "a b", "é",
                                 "a%2fb", None, True, 1.5, ["x"]])
def test_validate_id_refuses(bad: object) -> None:
    with pytest.raises(MalformedResponseError):
        validate_id(bad, what="task id")


def test_non_web_result_links_are_dropped() -> None:
    task = parse_task({"id": "t1", "status": "completed",
                       "results": ["javascript:alert(1)", "file:///etc/passwd"]})
    assert isinstance(task, Task)
    assert task.result_url is None
