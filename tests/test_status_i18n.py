"""A job's status in the user's language: the words the window and the command line share
(engine.status), a message and its fix joined as the language joins two sentences."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kling_desktop import i18n
from kling_desktop.api.models import GenerationOptions
from kling_desktop.engine.jobs import BlockedOn, Job, JobSpec, JobState
from kling_desktop.engine.status import describe, message_and_fix

NOW = 1_800_000_000.0


@pytest.fixture
def chinese() -> Iterator[None]:
    i18n.install("zh_CN")
    yield
    i18n.install("en")


def _job(state: JobState, **changes: object) -> Job:
    values: dict[str, object] = {
        "id": 1, "spec": JobSpec(image="/a.png", video="/b.mp4", options=GenerationOptions(),
                                 billable_seconds=5.0),
        "state": state, "base_url": "https://api.example.com", "demo": False,
        "created_at": NOW, "updated_at": NOW}
    values.update(changes)
    return Job(**values)  # type: ignore[arg-type]


def test_a_message_and_its_fix_read_as_two_english_sentences() -> None:
    job = _job(JobState.UNCERTAIN, error_message="The answer was lost.",
               error_fix="Check the dashboard.")
    assert describe(job, now=NOW).detail == "The answer was lost. Check the dashboard."
    assert message_and_fix("A.", "") == "A."
    assert message_and_fix(None, "B.") == "B."


def test_chinese_joins_a_message_and_its_fix_without_a_space(chinese: None) -> None:
    job = _job(JobState.SUBMITTED, blocked_on=BlockedOn.NETWORK, next_poll_at=NOW + 30,
               error_message="无法连接服务商。", error_fix="请检查网络连接。")
    status = describe(job, now=NOW)
    assert status.detail == "无法连接服务商。请检查网络连接。"
    assert status.headline == "离线——30 秒后重试"


def test_progress_words_in_chinese(chinese: None) -> None:
    job = _job(JobState.SUBMITTED, progress=40, provider_status="processing",
               submitted_at=NOW - 10, estimated_time=50, task_id="t-1")
    status = describe(job, now=NOW)
    assert status.headline == "正在生成 40% · 约剩 40 秒"
    assert status.detail == "任务 t-1"
    saved = describe(_job(JobState.COMPLETED, result_duration=5.0, output_path="/v.mp4"),
                     now=NOW)
    assert saved.headline == "已保存 · 5 秒视频"
