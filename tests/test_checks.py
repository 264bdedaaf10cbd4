"""checks.py: every refusal names the problem with numbers and a fix in plain words."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kling_desktop import i18n
from kling_desktop.api.models import MAX_PROMPT_CHARS, Orientation
from kling_desktop.engine import checks, media
from kling_desktop.engine.checks import (
    CheckReport,
    ImageInfo,
    Problem,
    VideoInfo,
    check_image,
    check_job,
    check_prompt,
    check_video,
)
from tests.media import (
    make_empty,
    make_gif_renamed_jpg,
    make_image,
    make_large_png,
    make_padded_png,
    make_sparse_large_mp4,
    make_text,
    make_truncated_png,
    make_video,
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("checks")


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


def test_info_types_are_the_media_ones() -> None:
    assert ImageInfo is media.ImageInfo
    assert VideoInfo is media.VideoInfo


# ----------------------------------------------------------------- happy path


def test_good_job(folder: Path) -> None:
    image = make_image(folder)
    video = make_video(folder, seconds=4.0, width=640, height=480)
    report = check_job(str(image), str(video), orientation=Orientation.IMAGE, prompt="跳舞 dance")
    assert isinstance(report, CheckReport)
    assert report.ok
    assert report.problems == ()
    assert report.image is not None
    assert report.image.format == "png"
    assert report.video is not None
    assert report.video.container == "mp4"
    assert report.billable_seconds == 4.0


def test_limits_are_inclusive(folder: Path) -> None:
    """Exactly 300 px, exactly 2.5:1, exactly 340 px and exactly 3 s all pass."""
    for width, height in [(300, 300), (750, 300), (300, 750)]:
        _, problems = check_image(str(make_image(folder, width=width, height=height)))
        assert problems == [], (width, height)
    video = make_video(folder, seconds=3.0, width=340, height=340, audio=False, fps=10)
    info, problems = check_video(str(video), Orientation.IMAGE)
    assert problems == []
    assert info is not None
    assert info.duration == pytest.approx(3.0)


def test_ten_seconds_is_fine_with_orientation_image(folder: Path) -> None:
    video = make_video(folder, seconds=10.0, width=352, height=352, audio=False, fps=5)
    info, problems = check_video(str(video), Orientation.IMAGE)
    assert info is not None
    assert info.duration == pytest.approx(10.0)
    assert problems == []


# ------------------------------------------------------------------ durations


def test_twelve_seconds_needs_orientation_video(folder: Path) -> None:
    video = str(make_video(folder, seconds=12.0, width=352, height=352, fps=5))
    info, problems = check_video(video, Orientation.IMAGE)
    problem = only(problems)
    assert info is not None
    assert problem.field == "video"
    assert problem.message == (
        "The motion video is 12 s long; with “Match the picture” the limit is 10 s."
    )
    assert problem.fix == ("Trim it to 10 s or less, or switch to “Match the video” "
                           "(clips up to 30 s).")
    assert problem.action == "orientation=video"

    _, problems = check_video(video, Orientation.VIDEO)
    assert problems == []
    report = check_job(str(make_image(folder)), video, orientation="video", prompt="")
    assert report.ok
    assert report.billable_seconds == 12.0


def test_31_seconds_is_refused_with_either_orientation(folder: Path) -> None:
    video = str(make_video(folder, seconds=31.0, width=352, height=352, fps=2, audio=False))
    for orientation in Orientation:
        problem = only(check_video(video, orientation)[1])
        assert "31 s long" in problem.message
        assert "30 s" in problem.message
        assert problem.action is None  # switching orientation alone does not help
    assert only(check_video(video, Orientation.VIDEO)[1]).fix == "Trim it to 30 s or less."
    assert "with “Match the video”" in only(check_video(video, Orientation.IMAGE)[1]).fix
    assert "(with “Match the video”)" in only(check_video(video, Orientation.VIDEO)[1]).message
    report = check_job(str(make_image(folder)), video, orientation=Orientation.VIDEO, prompt="")
    assert not report.ok
    assert report.billable_seconds == 31.0  # known, shown even though it is refused


def test_no_message_names_a_setting_in_the_api_s_words(folder: Path) -> None:
    """The form says "Match the picture"; so does every refusal (the CLI prints the same)."""
    texts = []
    for seconds in (12.0, 31.0):
        video = str(make_video(folder, seconds=seconds, width=352, height=352, fps=2))
        for orientation in Orientation:
            texts += [f"{p.message} {p.fix}" for p in check_video(video, orientation)[1]]
    texts += [f"{p.message} {p.fix}" for p in check_video("x.mp4", "sideways")[1]]
    assert texts
    for text in texts:
        assert "orientation '" not in text, text
        assert "character orientation" not in text, text
    assert "“Match the picture” (image) or “Match the video” (video)" in texts[-1]


def test_two_seconds_is_too_short(folder: Path) -> None:
    video = make_video(folder, seconds=2.0, width=352, height=352, fps=5)
    problem = only(check_video(str(video), Orientation.VIDEO)[1])
    assert problem.message == "The motion video is 2 s long; it must be at least 3 s."
    assert problem.fix == "Use a longer clip (3 s or more)."


def test_numbers_never_look_equal_to_the_limit() -> None:
    assert checks._num(10.02, 10.0) == "10.02"
    assert checks._num(2.999, 3.0) == "2.999"
    assert checks._num(12.43) == "12.4"
    problem = only(checks._duration_problems(10.04, Orientation.IMAGE))
    assert "10.04 s long" in problem.message


# ------------------------------------------------------------ video refusals


def test_video_too_small_and_too_large_in_pixels(folder: Path) -> None:
    small = make_video(folder, seconds=3.5, width=320, height=240, fps=5)
    problem = only(check_video(str(small), Orientation.IMAGE)[1])
    assert problem.message == (
        "The motion video is 320 × 240 px; each side must be at least 340 px."
    )
    assert "720p" in problem.fix

    large = make_video(folder, seconds=3.5, width=3860, height=400, fps=2, audio=False)
    problem = only(check_video(str(large), Orientation.IMAGE)[1])
    assert problem.message == (
        "The motion video is 3860 × 400 px; each side must be at most 3850 px."
    )
    assert "1080p" in problem.fix


def test_video_over_100_mb(folder: Path) -> None:
    big = make_sparse_large_mp4(folder, mdat_bytes=120 * 1024 * 1024, seconds=5.0)
    info, problems = check_video(str(big), Orientation.IMAGE)
    problem = only(problems)
    assert info is not None
    assert info.duration == pytest.approx(5.0, abs=0.05)
    assert problem.message.startswith("The motion video is 120 MB; the limit is 100 MB.")
    assert "lower quality" in problem.fix


def test_webm_is_refused_with_a_conversion_hint(folder: Path) -> None:
    webm = make_video(folder, fmt="webm", seconds=1.0, width=64, height=48)
    info, problems = check_video(str(webm), Orientation.IMAGE)
    problem = only(problems)
    assert info is None
    assert problem.message == (
        "This file is a WebM video; the service takes MP4 or MOV clips only."
    )
    assert problem.fix.startswith("Convert it to MP4")


def test_picture_given_as_the_video(folder: Path) -> None:
    problem = only(check_video(str(make_image(folder)), Orientation.IMAGE)[1])
    assert problem.message == "This file is a PNG image, not a video."
    assert problem.fix == "Pick an MP4 or MOV clip for the motion."


# ------------------------------------------------------------ image refusals


def test_gif_renamed_jpg(folder: Path) -> None:
    problem = only(check_image(str(make_gif_renamed_jpg(folder)))[1])
    assert problem.field == "image"
    assert problem.message == "This file is a GIF image, although its name ends in .jpg."
    assert problem.fix == "Save it as PNG or JPG."


def test_9000_by_300_is_too_wide(folder: Path) -> None:
    info, problems = check_image(str(make_image(folder, width=9000, height=300)))
    problem = only(problems)
    assert info is not None
    assert (info.width, info.height) == (9000, 300)
    assert problem.message == (
        "The picture is 9000 × 300 px, a 30:1 shape, which is too wide; "
        "the shape must be between 1:2.5 and 2.5:1."
    )
    assert "Crop it" in problem.fix


def test_too_tall(folder: Path) -> None:
    problem = only(check_image(str(make_image(folder, width=300, height=760)))[1])
    assert "a 1:2.5 shape" not in problem.message
    assert "1:2.53 shape, which is too tall" in problem.message


def test_200_by_200_is_too_small(folder: Path) -> None:
    problem = only(check_image(str(make_image(folder, width=200, height=200)))[1])
    assert problem.message == "The picture is 200 × 200 px; each side must be at least 300 px."
    assert problem.fix == "Use a larger picture (at least 300 px on each side)."


def test_image_over_10_mb(folder: Path) -> None:
    png = make_padded_png(folder, total_bytes=11 * 1024 * 1024 + 300 * 1024)
    info, problems = check_image(str(png))
    problem = only(problems)
    assert info is not None
    assert info.size_bytes > 11 * 1024 * 1024
    assert problem.message == "The picture is 11.3 MB; the limit is 10 MB."
    assert "JPG" in problem.fix
    assert "smaller" in problem.fix


def test_8000_by_8000_is_refused_from_the_header(folder: Path) -> None:
    # 64 megapixels in a ~190 KB file: small on disk, 244 MB once decoded.
    png = make_large_png(folder, width=8000, height=8000)
    assert png.stat().st_size < 1024 * 1024
    info, problems = check_image(str(png))
    problem = only(problems)
    assert info is not None
    assert (info.width, info.height) == (8000, 8000)
    assert problem.field == "image"
    assert problem.message == (
        "The picture is 8000 × 8000 px, 64 megapixels; the limit is 40 megapixels.")
    assert "Scale it down" in problem.fix
    assert checks.IMAGE_MAX_PIXELS == 40_000_000


def test_exactly_40_megapixels_passes(folder: Path) -> None:
    info, problems = check_image(str(make_large_png(folder, width=8000, height=5000)))
    assert info is not None
    assert problems == []


def test_small_and_badly_shaped_reports_both(folder: Path) -> None:
    _, problems = check_image(str(make_image(folder, width=100, height=400)))
    assert len(problems) == 2
    assert "at least 300 px" in problems[0].message
    assert "too tall" in problems[1].message


@pytest.mark.parametrize(("make", "words", "fix_words"), [
    (lambda d: make_empty(d), "is empty (0 bytes)", "finished downloading"),
    (lambda d: make_truncated_png(d), "is incomplete", "again"),
    (lambda d: make_text(d, "notes.jpg"),
     "This file is a text file, although its name ends in .jpg", "PNG or JPG"),
    (lambda d: make_video(d, seconds=1.0, width=64, height=48), "MP4 video, not a picture",
     "PNG or JPG picture"),
])
def test_unusable_pictures(tmp_path: Path, make: object, words: str, fix_words: str) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    info, problems = check_image(str(path))
    problem = only(problems)
    assert info is None
    assert words in problem.message
    assert fix_words in problem.fix


# ---------------------------------------------------------------- file access


def test_missing_file_folder_and_dangling_link(tmp_path: Path) -> None:
    problem = only(check_image(str(tmp_path / "lost.png"))[1])
    assert problem.message == "The file “lost.png” was not found."
    assert "moved, renamed" in problem.fix

    problem = only(check_video(str(tmp_path), Orientation.IMAGE)[1])
    assert problem.message == f"“{tmp_path.name}” is a folder, not a file."
    assert problem.fix == "Open the folder and pick a file inside it."

    link = tmp_path / "clip.mp4"
    link.symlink_to(tmp_path / "deleted.mp4")
    problem = only(check_video(str(link), Orientation.IMAGE)[1])
    assert problem.message == "“clip.mp4” is a shortcut (link) to a file that no longer exists."
    assert problem.fix == "Pick the original file instead of the shortcut."


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root reads any file whatever its permissions")
def test_unreadable_file(tmp_path: Path) -> None:
    path = make_video(tmp_path, seconds=3.5, width=352, height=352, fps=5)
    path.chmod(0)
    try:
        problem = only(check_video(str(path), Orientation.IMAGE)[1])
    finally:
        path.chmod(0o644)
    assert problem.message == f"The app is not allowed to read “{path.name}”."
    assert "permissions" in problem.fix


def test_unreadable_file_even_as_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_image(tmp_path)

    def refuse(*args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(media, "_open_binary", refuse)
    problem = only(check_image(str(path))[1])
    assert problem.message == f"The app is not allowed to read “{path.name}”."


def test_unicode_spaces_quotes_and_file_urls(tmp_path: Path) -> None:
    sub = tmp_path / "Мой проект 项目"
    image = make_image(sub, name="герой 角色 1.png")
    video = make_video(sub, name="танец 舞蹈 (final).mp4", width=352, height=352, fps=5)
    report = check_job(str(image), str(video), orientation=Orientation.IMAGE, prompt="")
    assert report.ok, report.problems
    # Windows "Copy as path" adds quotes; pasted text often carries spaces.
    assert check_image(f'"{image}"')[1] == []
    assert check_video(f"  {video}\n", Orientation.IMAGE)[1] == []
    assert check_image(image.as_uri())[1] == []


# --------------------------------------------------------------------- links


def test_https_links_are_accepted_without_measuring() -> None:
    report = check_job("https://cdn.example.com/char.png", "https://cdn.example.com/m%20v.mp4",
                       orientation=Orientation.IMAGE, prompt="")
    assert report.ok
    assert report.image is None
    assert report.video is None
    assert report.billable_seconds is None


def test_plain_http_is_refused() -> None:
    problem = only(check_image("http://example.com/char.png")[1])
    assert problem.field == "image"
    assert problem.message == (
        "The picture link starts with http://; the service only fetches secure https:// links."
    )
    assert "https:// version" in problem.fix


@pytest.mark.parametrize(("url", "words"), [
    ("https:///motion.mp4", "has no web address (host name)"),
    ("https://example.com/my motion.mp4", "contains spaces"),
    ("https://exa mple.com/motion.mp4", "contains spaces"),
    ("https://example.com:port/motion.mp4", "is not a valid web address"),
    ("https://exa$mple.com/motion.mp4", "host name “exa$mple.com” is not valid"),
    ("ftp://example.com/motion.mp4", "starts with ftp://; only https:// links work"),
    ("https://artist:hunter2@example.com/motion.mp4", "carries a user name or password"),
])
def test_malformed_links(url: str, words: str) -> None:
    problem = only(check_video(url, Orientation.IMAGE)[1])
    assert problem.field == "video"
    assert problem.message.startswith("The motion video link")
    assert words in problem.message
    assert "hunter2" not in problem.message
    assert problem.fix


def test_web_address_without_scheme_gets_a_hint() -> None:
    problem = only(check_video("www.example.com/motion.mp4", Orientation.IMAGE)[1])
    assert "without https://" in problem.message
    assert "Add https://" in problem.fix


def test_nothing_chosen() -> None:
    report = check_job("", "  ", orientation=Orientation.IMAGE, prompt="")
    assert [p.message for p in report.problems] == [
        "No picture is chosen.", "No motion video is chosen."]
    assert "PNG or JPG" in report.problems[0].fix


# -------------------------------------------------------------------- prompt


def test_prompt_limit_counts_characters() -> None:
    assert check_prompt("") == []
    assert check_prompt("跳" * MAX_PROMPT_CHARS) == []  # 7,500 bytes in UTF-8, still fine
    problem = only(check_prompt("跳" * (MAX_PROMPT_CHARS + 1)))
    assert problem.field == "prompt"
    assert problem.message == "The prompt is 2,501 characters long; the limit is 2,500."
    assert problem.fix == "Shorten it by at least 1 character."
    assert only(check_prompt("a" * 2731)).fix == "Shorten it by at least 231 characters."


@pytest.fixture
def chinese() -> Iterator[None]:
    i18n.install("zh_CN")
    yield
    i18n.install("en")


def test_prompt_limit_in_chinese_counts_chinese_characters(chinese: None) -> None:
    assert check_prompt("跳" * MAX_PROMPT_CHARS) == []
    problem = only(check_prompt("跳" * (MAX_PROMPT_CHARS + 1)))
    assert problem.message == "提示词共 2,501 个字符；上限是 2,500 个。"
    assert problem.fix == "请至少删减 1 个字符。"


def test_refusals_read_as_chinese_sentences(chinese: None, folder: Path) -> None:
    long_clip = str(make_video(folder, seconds=12))
    problem = only(check_video(long_clip, Orientation.IMAGE)[1])
    assert problem.message == "动作参考视频时长 12 秒；选择“与图片一致”时，上限是 10 秒。"
    assert problem.fix == "请把它剪到 10 秒以内，或改选“与视频一致”（参考视频最长 30 秒）。"
    assert problem.action == "orientation=video"
    link = only(check_image("http://example.com/a.png")[1])
    assert link.message == "图片链接以 http:// 开头；服务只获取安全的 https:// 链接。"
    gif = only(check_image(str(make_gif_renamed_jpg(folder)))[1])
    assert gif.message.startswith("该文件是GIF 图片，尽管扩展名是 .jpg")
    assert gif.fix == "请把它另存为 PNG 或 JPG。"


def test_job_collects_problems_from_every_field(folder: Path) -> None:
    report = check_job(
        str(make_image(folder, width=200, height=200)),
        "http://example.com/a.mp4",
        orientation=Orientation.IMAGE,
        prompt="x" * 3000,
    )
    assert not report.ok
    assert [p.field for p in report.problems] == ["image", "video", "prompt"]
    assert len(report.for_field("image")) == 1
    assert report.billable_seconds is None


def test_unknown_orientation_is_an_options_problem(folder: Path) -> None:
    problem = only(check_video(str(make_video(folder)), "sideways")[1])
    assert problem.field == "options"
    assert "sideways" in problem.message


def test_web_page_saved_as_a_picture(tmp_path: Path) -> None:
    page = make_text(tmp_path, "photo.jpg", "<!DOCTYPE html><html><body>403</body></html>")
    problem = only(check_image(str(page))[1])
    assert problem.message == (
        "This file is a web page (HTML), not the picture itself, "
        "although its name ends in .jpg."
    )
    assert "Save image as" in problem.fix


def test_a_nul_character_in_the_name_is_a_problem_not_a_crash() -> None:
    problem = only(check_image("bad\x00name.png")[1])
    assert "not a valid file name" in problem.message


# ------------------------------------------------------------------ batches


def test_only_accepted_inputs_count_toward_jobs_and_billable_seconds(folder: Path) -> None:
    from kling_desktop.engine.batch import JobOptions, check_batch, estimate_cost, rate_key

    clip = str(make_video(folder, seconds=4.0, width=640, height=480))
    good = [str(make_image(folder, width=600, height=800 + i, name=f"ok-{i}.png"))
            for i in range(2)]
    refused = str(make_truncated_png(folder))
    batch = check_batch([*good, refused], [clip], JobOptions())
    assert not batch.ok
    assert batch.job_count == 3                       # what was asked
    assert batch.accepted_job_count == 2              # what would be sent once fixed
    assert batch.accepted_billable_seconds == 8.0
    rates = {rate_key(JobOptions().model, JobOptions().mode): 0.5}
    assert estimate_cost(batch, JobOptions(), rates) == 4.0


def test_an_unknown_home_folder_is_a_problem_not_a_crash() -> None:
    from kling_desktop.engine.batch import JobOptions, check_batch

    batch = check_batch(["~no-such-user-here/hero.png"], ["~no-such-user-here/a.mp4"],
                        JobOptions())
    assert not batch.ok
    assert {p.field for p in batch.problems} == {"image", "video"}
    assert batch.accepted_job_count == 0
