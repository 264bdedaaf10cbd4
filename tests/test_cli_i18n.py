"""The command line in the user's language: 简体中文 from the environment or ``--lang``,
English otherwise, and every line of prose through translation (the pseudo-language).

The CLI runs as a subprocess against the simulator, as a script would run it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kling_desktop.cli import split_language
from kling_desktop.simulator import Simulator
from tests.cli_support import cli_env, run_cli, write_settings
from tests.media import make_image, make_video

SUBCOMMANDS = ("generate", "jobs", "wait", "retry", "library", "key", "simulator")
_LANGUAGE_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def _env(data: Path, sim: Simulator, *, lang: str, key: str | None = "sk-test-i18n"
         ) -> dict[str, str]:
    """The CLI's environment with only ``LANG`` saying the language (as on a desktop)."""
    write_settings(data)
    env = cli_env(data, sim.base_url, key=key)
    for name in _LANGUAGE_VARS:
        env.pop(name, None)
    env["LANG"] = lang
    return env


@pytest.fixture
def chinese(isolated_env: Path, sim: Simulator) -> dict[str, str]:
    return _env(isolated_env, sim, lang="zh_CN.UTF-8")


@pytest.fixture
def english(isolated_env: Path, sim: Simulator) -> dict[str, str]:
    return _env(isolated_env, sim, lang="en_US.UTF-8")


# -- 简体中文 from LANG ------------------------------------------------------------------


def test_a_refusal_speaks_chinese(chinese: dict[str, str], tmp_path: Path) -> None:
    picture = make_image(tmp_path, width=600, height=800, fmt="png")
    short = make_video(tmp_path, seconds=2.0, width=640, height=480, fmt="mp4")
    result = run_cli(["generate", "--image", str(picture), "--video", str(short)], chinese)
    assert result.code == 2, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == "没有发送任何内容：以下问题需要处理。"
    assert any(line.startswith("  解决办法：") for line in lines), result.stderr
    assert "Nothing was sent" not in result.stderr
    assert "Fix:" not in result.stderr


def test_a_missing_key_is_refused_in_chinese(isolated_env: Path, sim: Simulator,
                                             tmp_path: Path) -> None:
    env = _env(isolated_env, sim, lang="zh_CN.UTF-8", key=None)
    env["KLING_KEYRING_SERVICE"] = "kling-desktop-test-none"
    picture = make_image(tmp_path, width=600, height=800, fmt="png")
    clip = make_video(tmp_path, seconds=4.0, width=640, height=480, fmt="mp4")
    result = run_cli(["generate", "--image", str(picture), "--video", str(clip)], env)
    assert result.code == 2, result.stderr
    assert "尚未为 127.0.0.1" in result.stderr, result.stderr
    assert "设置 API 密钥" in result.stderr
    assert sim.count("create") == 0


def test_jobs_with_no_jobs_speaks_chinese(chinese: dict[str, str]) -> None:
    result = run_cli(["jobs"], chinese)
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == (
        "还没有任务。可用 `kling-desktop generate --image … --video …` 创建一个。")


def test_an_unknown_job_is_refused_in_chinese(chinese: dict[str, str]) -> None:
    result = run_cli(["retry", "4242"], chinese)
    assert result.code == 2
    assert result.stderr.splitlines() == [
        "错误：这台电脑上没有任务 ID 或编号为“4242”的任务。",
        "  解决办法：可用 `kling-desktop jobs` 列出你的任务。",
    ]


@pytest.mark.parametrize("command", ["", *SUBCOMMANDS])
def test_the_help_of_every_command_is_chinese(command: str, chinese: dict[str, str]) -> None:
    result = run_cli([command, "--help"] if command else ["--help"], chinese)
    assert result.code == 0, result.stderr
    text = result.stdout
    assert text.startswith("用法：kling-desktop"), text
    assert "选项:" in text                      # argparse's own heading
    assert "显示此帮助信息并退出" in text         # argparse's own -h help
    assert "show this help" not in text
    assert "usage:" not in text


def test_an_argparse_error_is_chinese(chinese: dict[str, str]) -> None:
    result = run_cli(["generate", "--image", "a.png"], chinese)
    assert result.code == 2
    assert result.stderr.startswith("用法：kling-desktop generate")
    assert "kling-desktop generate：错误：缺少以下必需参数：--video" in result.stderr
    wrong = run_cli(["library", "shelve"], chinese)
    assert wrong.code == 2
    assert "无效的选项：'shelve'" in wrong.stderr, wrong.stderr


def test_an_unknown_language_is_refused_in_words(chinese: dict[str, str]) -> None:
    result = run_cli(["--lang", "fr", "jobs"], chinese)
    assert result.code == 2
    assert "未知的语言“fr”" in result.stderr


# -- --lang and English ----------------------------------------------------------------


@pytest.mark.parametrize("where", ["before", "after"])
def test_lang_en_overrides_a_chinese_environment(where: str, chinese: dict[str, str]) -> None:
    args = ["--lang", "en", "jobs"] if where == "before" else ["jobs", "--lang=en"]
    result = run_cli(args, chinese)
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("No jobs yet.")
    helped = run_cli(["--lang", "en", "retry", "--help"], chinese)
    assert helped.stdout.startswith("usage: kling-desktop retry")


def test_lang_zh_cn_overrides_an_english_environment(english: dict[str, str]) -> None:
    result = run_cli(["--lang", "zh_CN", "wait"], english)
    assert result.code == 0, result.stderr
    assert result.stderr.strip() == "没有未完成的任务。"


def test_an_english_environment_reads_english(english: dict[str, str]) -> None:
    jobs = run_cli(["jobs"], english)
    assert jobs.stdout.startswith("No jobs yet. Start one with `kling-desktop generate")
    helped = run_cli(["--help"], english)
    assert helped.stdout.startswith("usage: kling-desktop")
    assert "show this help message and exit" in helped.stdout
    unknown = run_cli(["retry", "4242"], english)
    assert unknown.stderr.splitlines()[0].startswith("Error: There is no job with task id")
    assert "  Fix: List your jobs with `kling-desktop jobs`." in unknown.stderr


def test_the_language_option_is_found_anywhere_before_a_double_dash() -> None:
    assert split_language(["--lang", "zh_CN", "jobs"]) == ("zh_CN", ["jobs"])
    assert split_language(["jobs", "--lang=en", "--json"]) == ("en", ["jobs", "--json"])
    assert split_language(["wait", "--", "--lang", "en"]) == (None, ["wait", "--", "--lang", "en"])
    # Not a language: left for the parser to refuse in words.
    assert split_language(["--lang", "fr", "jobs"]) == (None, ["--lang", "fr", "jobs"])


# -- the pseudo-language: every line of prose through translation -----------------------

_MARKED = re.compile(r"⟦[^⟦⟧]*⟧", re.DOTALL)
# What may stay as it is: option names, metavars and choices, commands, paths, numbers.
_ALLOWED = re.compile(
    r"--?[\w-]+(?:=\S*)?"                       # -h, --image, --lang=pseudo
    r"|\{[^{}]*\}"                              # {std,pro}
    r"|\b[A-Z][A-Z_|]*\b"                       # PATH|URL, TASK_ID, N
    r"|\S*/\S*"                                 # paths and links
    r"|\bkling-desktop\b"
    r"|\b(?:" + "|".join(SUBCOMMANDS) + r")\b"
    r"|\d+")


def _untranslated_lines(text: str) -> list[str]:
    """The lines of ``text`` with prose that did not pass through translation."""
    stripped = text
    while True:                                 # innermost first: marks nest
        reduced = _MARKED.sub(" ", stripped)
        if reduced == stripped:
            break
        stripped = reduced
    originals = text.splitlines()
    bad = []
    for number, line in enumerate(stripped.splitlines()):
        rest = _ALLOWED.sub(" ", line)
        if re.search(r"[A-Za-z]{2,}", rest):
            bad.append(originals[number] if number < len(originals) else line)
    return bad


def test_the_pseudo_check_finds_an_untranslated_line() -> None:
    assert _untranslated_lines("⟦Nothing was sent⟧\nplain English here\n  --image PATH|URL") \
        == ["plain English here"]
    assert _untranslated_lines("⟦kling-desktop: error: ⟦missing⟧ --video⟧") == []


@pytest.mark.parametrize("command", ["", *SUBCOMMANDS])
def test_every_help_passes_through_translation(command: str, english: dict[str, str]) -> None:
    args = ["--lang", "pseudo", *([command] if command else []), "--help"]
    result = run_cli(args, english)
    assert result.code == 0, result.stderr
    assert "⟦" in result.stdout
    assert _untranslated_lines(result.stdout) == []


TYPICAL: dict[str, list[str]] = {
    "jobs, none yet": ["jobs"],
    "wait, nothing to finish": ["wait"],
    "an unknown job": ["retry", "4242"],
    "an argparse error": ["generate", "--image", "a.png"],
    "a wrong choice": ["library", "shelve"],
}


@pytest.mark.parametrize("case", list(TYPICAL))
def test_typical_messages_pass_through_translation(case: str,
                                                   english: dict[str, str]) -> None:
    result = run_cli(["--lang", "pseudo", *TYPICAL[case]], english)
    output = result.stdout + result.stderr
    assert output.strip(), case
    assert _untranslated_lines(output) == []


def test_a_refusal_passes_through_translation(isolated_env: Path, sim: Simulator,
                                              tmp_path: Path) -> None:
    env = _env(isolated_env, sim, lang="en_US.UTF-8", key=None)
    env["KLING_KEYRING_SERVICE"] = "kling-desktop-test-none"
    picture = make_image(tmp_path, width=600, height=800, fmt="png")
    clip = make_video(tmp_path, seconds=4.0, width=640, height=480, fmt="mp4")
    result = run_cli(["--lang", "pseudo", "generate", "--image", str(picture),
                      "--video", str(clip)], env)
    assert result.code == 2, result.stderr
    assert _untranslated_lines(result.stderr) == []


def test_key_status_passes_through_translation(english: dict[str, str]) -> None:
    result = run_cli(["--lang", "pseudo", "key", "status"], english)
    assert _untranslated_lines(result.stdout + result.stderr) == []
