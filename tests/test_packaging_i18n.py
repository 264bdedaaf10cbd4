"""The installers, the desktop entry and the README speak 简体中文 and English.

Offline and without building anything: the packaging files are read as text (and
with the real desktop-file-validate where it is installed); packaging/build.py's
macOS helpers run on a folder standing in for the .app.
"""

from __future__ import annotations

import codecs
import configparser
import importlib.util
import plistlib
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
DESKTOP = PACKAGING / "linux" / "kling-desktop.desktop"

CJK = re.compile(r"[\u4e00-\u9fff]")


# ------------------------------------------------------------------ Linux .desktop


def desktop_entry() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(DESKTOP.read_text(encoding="utf-8"))
    return parser


@pytest.mark.parametrize("key", ["Name", "GenericName", "Comment", "Keywords"])
def test_the_desktop_entry_has_a_chinese_value_next_to_each_english_one(key: str) -> None:
    entry = desktop_entry()["Desktop Entry"]
    assert entry.get(key), f"no {key}"
    chinese = entry.get(f"{key}[zh_CN]", "").strip()
    assert chinese, f"no {key}[zh_CN]"
    assert CJK.search(chinese), f"{key}[zh_CN]={chinese!r} is not Chinese"
    assert chinese != entry[key]


def test_the_chinese_keywords_still_find_the_app_by_its_latin_name() -> None:
    keywords = desktop_entry()["Desktop Entry"]["Keywords[zh_CN]"]
    assert keywords.endswith(";")
    assert "kling" in keywords.split(";")
    assert "可灵" in keywords.split(";")


def test_every_desktop_action_is_named_in_chinese_too() -> None:
    entry = desktop_entry()
    actions = [a for a in entry["Desktop Entry"]["Actions"].split(";") if a]
    assert actions
    for action in actions:
        section = entry[f"Desktop Action {action}"]
        assert CJK.search(section.get("Name[zh_CN]", "")), action


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None,
                    reason="desktop-file-validate not installed (apt: desktop-file-utils)")
def test_desktop_file_validate_finds_no_error() -> None:
    result = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True,
                            text=True, check=False)
    errors = [line for line in (result.stdout + result.stderr).splitlines()
              if "error:" in line]
    assert result.returncode == 0, result.stdout + result.stderr
    assert not errors, result.stdout + result.stderr


def test_the_deb_recommends_a_cjk_font_once() -> None:
    control = (PACKAGING / "linux" / "control").read_text(encoding="utf-8")
    recommends = next(line for line in control.splitlines() if line.startswith("Recommends:"))
    packages = [p.strip() for p in recommends.split(":", 1)[1].split(",")]
    assert packages.count("fonts-noto-cjk") == 1, recommends


# ------------------------------------------------------------------ Windows (Inno Setup)

ISS = PACKAGING / "windows" / "kling_desktop.iss"
# Custom messages every Inno Setup language file defines (Default.isl's [CustomMessages]).
INNO_BUILT_IN = {"NameAndVersion", "AdditionalIcons", "CreateDesktopIcon",
                 "CreateQuickLaunchIcon", "ProgramOnTheWeb", "UninstallProgram",
                 "LaunchProgram", "AssocFileExtension", "AssocingFileExtension",
                 "AutoStartProgramGroupDescription", "AutoStartProgram",
                 "AddonHostProgramNotFound"}


def iss_text() -> str:
    return ISS.read_bytes().decode("utf-8-sig")


def iss_sections(text: str) -> dict[str, list[str]]:
    """Each [Section]'s lines, without comments and blank lines (preprocessor lines kept)."""
    sections: dict[str, list[str]] = {}
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        header = re.fullmatch(r"\[(\w+)\]", line)
        if header:
            current = header[1]
            sections.setdefault(current, [])
        else:
            sections.setdefault(current, []).append(line)
    return sections


def iss_languages(text: str) -> list[str]:
    return [re.match(r'Name:\s*"(\w+)"', line)[1]  # type: ignore[index]
            for line in iss_sections(text)["Languages"]]


def custom_messages(text: str) -> dict[str, dict[str, str]]:
    """{message: {language: value}} of the script's [CustomMessages]."""
    found: dict[str, dict[str, str]] = {}
    for line in iss_sections(text)["CustomMessages"]:
        name, _, value = line.partition("=")
        language, _, message = name.partition(".")
        assert message, f"{line!r}: a message without a language applies to all of them"
        assert language in iss_languages(text), line
        assert message not in found.get(language, {}), f"{name} twice"
        found.setdefault(message, {})[language] = value
    return found


def test_the_installer_speaks_english_and_simplified_chinese() -> None:
    text = iss_text()
    assert iss_languages(text) == ["english", "chinesesimplified"]
    languages = "\n".join(iss_sections(text)["Languages"])
    assert 'MessagesFile: "compiler:Default.isl"' in languages
    assert 'MessagesFile: "{#ChineseMessages}"' in languages


def test_the_installer_picks_the_language_from_the_system() -> None:
    setup = iss_sections(iss_text())["Setup"]
    assert "ShowLanguageDialog=auto" in setup
    assert "LanguageDetectionMethod=uilanguage" in setup


def test_the_chinese_wizard_pages_are_found_or_the_build_stops() -> None:
    text = iss_text()
    found = re.findall(r'#define ChineseMessages (.+)', text)
    assert any("compiler:Languages\\ChineseSimplified.isl" in f for f in found)
    assert any("SourcePath" in f for f in found)             # a copy beside the script
    chain = text[text.index("#if FileExists"):text.index("#endif", text.index("#if FileExists"))]
    assert "#else\n  #error " in chain                      # never silently English only


def test_every_custom_message_exists_in_both_languages_with_the_same_placeholders() -> None:
    text = iss_text()
    messages = custom_messages(text)
    assert len(messages) >= 5
    for message, by_language in messages.items():
        assert set(by_language) == set(iss_languages(text)), message
        english, chinese = by_language["english"], by_language["chinesesimplified"]
        assert chinese.strip(), message
        assert CJK.search(chinese), f"{message}: {chinese!r} is not Chinese"
        assert (sorted(re.findall(r"%\d", english)) == sorted(re.findall(r"%\d", chinese))), (
            message)
        assert english.count("%n") == chinese.count("%n"), message


def test_every_message_the_script_uses_is_defined() -> None:
    text = iss_text()
    defined = set(custom_messages(text)) | INNO_BUILT_IN
    used = set(re.findall(r"\{cm:(\w+)", text)) | set(re.findall(r"CustomMessage\('(\w+)'\)",
                                                                  text))
    assert used - set(INNO_BUILT_IN), "the parser found none of our own messages"
    assert used <= defined, used - defined


def test_the_start_menu_shortcuts_are_named_in_the_installers_language() -> None:
    icons = iss_sections(iss_text())["Icons"]
    assert len(icons) == 3
    for line in icons:
        name = re.match(r'Name:\s*"([^"]+)"', line)[1]  # type: ignore[index]
        assert re.search(r"\\\{cm:\w+\}$", name), f"{name}: not a custom message"
        assert "Comment:" not in line or re.search(r'Comment:\s*"\{cm:\w+\}"', line), line


def test_the_uninstall_question_is_a_custom_message_not_english_code() -> None:
    code = iss_text().split("[Code]", 1)[1]
    assert "CustomMessage('RemoveUserDataQuestion')" in code
    # No English sentence left in Pascal string literals shown to people.
    literals = re.findall(r"'([^']*)'", code)
    assert not [s for s in literals if re.search(r"[A-Za-z]{3,} [a-z]{2,} [a-z]{2,}", s)]


def test_the_script_is_utf8_with_a_bom_for_inno_setup_before_6_3() -> None:
    raw = ISS.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "可灵动作工作室" in raw.decode("utf-8-sig")


# ------------------------------------------------------------------ macOS


MACOS = PACKAGING / "macos"


@pytest.fixture(scope="module")
def build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kling_packaging_build_i18n",
                                                  PACKAGING / "build.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def info_plist() -> dict[str, object]:
    text = (MACOS / "Info.plist").read_text(encoding="utf-8")
    return plistlib.loads(text.encode("utf-8"))  # type: ignore[no-any-return]


def test_info_plist_declares_english_and_simplified_chinese() -> None:
    info = info_plist()
    assert info["CFBundleDevelopmentRegion"] == "en"
    assert info["CFBundleLocalizations"] == ["en", "zh-Hans"]
    assert info["LSHasLocalizedDisplayName"] is True
    folders = sorted(p.name.removesuffix(".lproj") for p in MACOS.glob("*.lproj"))
    assert folders == ["en", "zh-Hans"]


@pytest.mark.parametrize("language", ["en", "zh-Hans"])
def test_infoplist_strings_parse_and_name_the_app(build: ModuleType, language: str) -> None:
    text = (MACOS / f"{language}.lproj" / "InfoPlist.strings").read_text(encoding="utf-8")
    entries = build.parse_strings(text)
    assert set(entries) == {"CFBundleDisplayName", "CFBundleName"}
    if language == "zh-Hans":
        assert entries["CFBundleDisplayName"] == "可灵动作工作室"
    else:   # the same name the spec puts into Info.plist for @NAME@
        assert entries["CFBundleDisplayName"] == "Kling Motion Studio"
    assert len(entries["CFBundleName"]) <= 19


def test_the_strings_parser_reads_what_macos_reads(build: ModuleType) -> None:
    text = '/* a\n comment */ "a" = "x\\"y\\n"; // line comment\nb_key="\\\\" ;\n'
    assert build.parse_strings(text) == {"a": 'x"y\n', "b_key": "\\"}


@pytest.mark.parametrize("broken", [
    '"CFBundleName" = "no semicolon"',
    '"CFBundleName" = unquoted;',
    '"CFBundleName" = "x"; "CFBundleName" = "y";',
    '/* never closed',
    '"CFBundleName" = "“curly quotes close nothing;',
])
def test_the_strings_parser_refuses_what_macos_would_ignore(build: ModuleType,
                                                            broken: str) -> None:
    with pytest.raises(ValueError):
        build.parse_strings(broken)


def test_the_build_writes_the_names_into_the_app_as_utf16(build: ModuleType,
                                                         tmp_path: Path) -> None:
    app = tmp_path / "Kling Motion Studio.app"
    (app / "Contents" / "Resources").mkdir(parents=True)
    written = build.localize_macos_app(app)
    resources = app / "Contents" / "Resources"
    assert sorted(p.relative_to(resources).as_posix() for p in written) == [
        "en.lproj/InfoPlist.strings", "zh-Hans.lproj/InfoPlist.strings"]
    raw = (resources / "zh-Hans.lproj" / "InfoPlist.strings").read_bytes()
    assert raw.startswith(codecs.BOM_UTF16_LE)
    text = raw.decode("utf-16")
    assert build.parse_strings(text)["CFBundleDisplayName"] == "可灵动作工作室"


def test_the_build_refuses_a_strings_file_without_a_display_name(
        build: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    here = tmp_path / "packaging"
    (here / "macos" / "fr.lproj").mkdir(parents=True)
    (here / "macos" / "fr.lproj" / "InfoPlist.strings").write_text(
        '"CFBundleName" = "Studio";\n', encoding="utf-8")
    monkeypatch.setattr(build, "HERE", here)
    monkeypatch.setattr(build, "ROOT", tmp_path)
    with pytest.raises(SystemExit, match="CFBundleDisplayName"):
        build.localize_macos_app(tmp_path / "x.app")


def test_the_build_localises_the_app_before_it_is_tested_and_packed() -> None:
    source = (PACKAGING / "build.py").read_text(encoding="utf-8")
    main = source[source.index("def main("):]
    localise = main.index("localize_macos_app(bundle)")
    assert localise < main.index("reseal_macos_app(bundle)") < main.index("self_test(")
    assert main.index("pyinstaller(NAME") < localise


# ------------------------------------------------------------------ README in Chinese

README = ROOT / "README.md"
README_ZH = ROOT / "README.zh-CN.md"


def marked_command(marker: str) -> str:
    """The one command README.md holds between <!-- marker --> and <!-- /marker -->."""
    text = README.read_text(encoding="utf-8")
    block = text.split(f"<!-- {marker} -->", 1)[1].split(f"<!-- /{marker} -->", 1)[0]
    lines = [line for line in block.strip().splitlines() if not line.startswith("```")]
    assert len(lines) == 1, block
    return lines[0]


def section(text: str, title: str) -> str:
    return text.split(f"\n## {title}", 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize("marker", ["demo-command", "test-command"])
def test_the_chinese_readme_has_the_set_up_commands_exactly(marker: str) -> None:
    command = marked_command(marker)
    assert command.startswith("python3 -m venv .venv")
    fenced = re.findall(r"```bash\n(.*?)\n```", README_ZH.read_text(encoding="utf-8"), re.S)
    assert command in fenced


def test_the_readmes_link_to_each_other_at_the_top() -> None:
    assert README.read_text(encoding="utf-8").splitlines()[0] == "[简体中文](README.zh-CN.md)"
    assert "[English](README.md)" in README_ZH.read_text(encoding="utf-8").splitlines()[0]


def test_the_chinese_install_section_names_the_same_files_and_steps() -> None:
    english = section(README.read_text(encoding="utf-8"), "Install")
    chinese = section(README_ZH.read_text(encoding="utf-8"), "安装")
    for name in re.findall(r"`([^`]+)`", english):
        assert name.replace("<version>", "<版本>") in chinese, name
    for words in ("更多信息 → 仍要运行", "**打开** → **打开**", "隐私与安全性", "仍要打开"):
        assert words in chinese, words


@pytest.mark.parametrize(("title", "words"), [
    ("第一次启动", ["欢迎面板", "试用演示模式", "保存密钥", "不产生费用"]),
    ("生成的视频保存在哪里", ["作品库", "~/Videos/Kling Motion Studio",
                              "~/Movies/Kling Motion Studio", "设置 → 作品库文件夹"]),
    ("界面语言", ["设置 → 语言", "跟随系统", "简体中文", "--lang zh_CN", "LC_MESSAGES"]),
])
def test_the_chinese_readme_covers_first_run_results_and_language(title: str,
                                                                  words: list[str]) -> None:
    text = section(README_ZH.read_text(encoding="utf-8"), title)
    for word in words:
        assert word in text, word


def test_the_chinese_readme_uses_the_glossary_words() -> None:
    text = README_ZH.read_text(encoding="utf-8")
    assert "角色图片" not in text          # the glossary: always 人物图片
    for term in ("人物图片", "动作参考视频", "作品库", "演示模式", "API 密钥", "系统密码库"):
        assert term in text, term
