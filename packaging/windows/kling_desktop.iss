; Inno Setup 7 (or 6) script for Kling Motion Studio (one-folder PyInstaller build).
;
; Built by `python packaging/build.py` on Windows, which passes:
;   /DAppVersion=0.1.0  /DSourceDir=...\dist\kling-desktop  /DOutputDir=...\dist
;   /DIconFile=...\build\icons\app.ico
; By hand:  iscc /DAppVersion=0.1.0 /DSourceDir=dist\kling-desktop packaging\windows\kling_desktop.iss
;
; Installs per user by default (no administrator prompt; the wizard offers
; "install for all users" to administrators). The uninstaller keeps the user's
; library, job history, settings and saved key unless they say otherwise.
;
; English and 简体中文: the wizard speaks the system's language (English when it is
; neither, after asking). Inno Setup's own pages come from its Simplified Chinese
; messages file, which Inno Setup 7 ships (the release workflow installs 7.0.2);
; Inno Setup 6 has it only as an unofficial translation that is not installed:
; there, copy ChineseSimplified.isl (https://jrsoftware.org/files/istrans/) into
; this folder or into the compiler's Languages folder. Our own words are in
; [CustomMessages] below, one line per language (tests/test_packaging_i18n.py
; checks that every message has both). Saved as UTF-8 with a BOM, which Inno Setup
; before 6.3 needs to read the Chinese as UTF-8.

#ifndef AppVersion
  #error Pass /DAppVersion=<version> (build.py does)
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\kling-desktop"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif
#ifndef IconFile
  #define IconFile "..\..\build\icons\app.ico"
#endif

#define AppName "Kling Motion Studio"
#define AppExe "kling-desktop.exe"
#define CliExe "kling-desktop-cli.exe"
; platformdirs' folders for APP_ID "kling-desktop" (see kling_desktop/paths.py)
#define DataFolder "kling-desktop"

; Inno Setup's Simplified Chinese wizard pages: a copy beside this script wins, then
; the compiler's own (Inno Setup 7). Without one the installer would be English only,
; so the build stops and says what to do.
#if FileExists(SourcePath + "ChineseSimplified.isl")
  #define ChineseMessages SourcePath + "ChineseSimplified.isl"
#elif FileExists(CompilerPath + "Languages\ChineseSimplified.isl")
  #define ChineseMessages "compiler:Languages\ChineseSimplified.isl"
#elif FileExists(CompilerPath + "Languages\ChineseSimplified.islu")
  #define ChineseMessages "compiler:Languages\ChineseSimplified.islu"
#else
  #error No Simplified Chinese messages for the wizard: use Inno Setup 7, or put ChineseSimplified.isl (https://jrsoftware.org/files/istrans/) next to kling_desktop.iss (see packaging/README.md)
#endif

[Setup]
; Never change AppId: upgrades and the uninstaller find the installation through it.
AppId={{6A0C3E0B-3D55-4C1B-9F4B-7C1E2B9D8A41}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppName}
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#OutputDir}
OutputBaseFilename=KlingMotionStudio-{#AppVersion}-setup
SetupIconFile={#IconFile}
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
LZMANumBlockThreads=2
WizardStyle=modern
; Close a running copy before files are replaced.
CloseApplications=yes
RestartApplications=no
; The system's UI language picks English or 简体中文; the language dialog appears
; only when it is neither.
ShowLanguageDialog=auto
LanguageDetectionMethod=uilanguage

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"
Name: "chinesesimplified"; MessagesFile: "{#ChineseMessages}"

[CustomMessages]
; %1.. are filled in by the [Icons] lines or the [Code] below; %n is a line break.
; Terms: kling_desktop/locale/zh_CN/GLOSSARY.md.
english.AppShortcutName={#AppName}
chinesesimplified.AppShortcutName=可灵动作工作室
english.AppShortcutComment=Animate a character picture with the motion of a video
chinesesimplified.AppShortcutComment=让人物图片做出参考视频中的动作
english.DemoShortcutName={#AppName} (demo, no key needed)
chinesesimplified.DemoShortcutName=可灵动作工作室（演示模式，无需密钥）
english.DemoShortcutComment=Try the app with a sample character and clip; nothing is sent or billed
chinesesimplified.DemoShortcutComment=用示例人物和示例视频试用；不会发送给服务商，也不产生费用
english.RemoveUserDataQuestion=Also remove my saved videos and settings?%n%nYes: delete the library folder %1, the job history, settings and logs (%2), and forget the API key saved in Windows Credential Manager.%n%nNo (recommended): keep them, so a reinstall finds everything again.%n%nA library folder you chose yourself in Settings is never deleted.
chinesesimplified.RemoveUserDataQuestion=同时删除我保存的视频和设置吗？%n%n是：删除作品库文件夹 %1、任务记录、设置和日志（%2），并忘记保存在 Windows 凭据管理器中的 API 密钥。%n%n否（推荐）：保留它们，重新安装后一切照旧。%n%n您在设置中自己选择的作品库文件夹永远不会被删除。

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole one-folder bundle. "ignoreversion": always replace, the bundle is one unit.
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; An upgrade must not leave libraries of the previous version next to the new ones.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\{cm:AppShortcutName}"; Filename: "{app}\{#AppExe}"; Comment: "{cm:AppShortcutComment}"
Name: "{autoprograms}\{cm:DemoShortcutName}"; Filename: "{app}\{#AppExe}"; Parameters: "--demo"; Comment: "{cm:DemoShortcutComment}"
Name: "{autodesktop}\{cm:AppShortcutName}"; Filename: "{app}\{#AppExe}"; Comment: "{cm:AppShortcutComment}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
var
  RemoveUserData: Boolean;

function DefaultLibraryFolder(): String;
begin
  { platformdirs.user_videos_dir() + "\Kling Motion Studio" }
  Result := AddBackslash(GetShellFolderByCSIDL($000E { CSIDL_MYVIDEO }, False)) + '{#AppName}';
end;

function DataFolder(): String;
begin
  Result := ExpandConstant('{localappdata}\{#DataFolder}');
end;

function InitializeUninstall(): Boolean;
var
  Question: String;
begin
  Result := True;
  RemoveUserData := False;
  if UninstallSilent() then
    Exit;  { silent uninstalls (IT deployments) never delete user data }
  Question := FmtMessage(CustomMessage('RemoveUserDataQuestion'),
                         [DefaultLibraryFolder(), DataFolder()]);
  RemoveUserData := MsgBox(Question, mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  ResultCode: Integer;
begin
  if not RemoveUserData then
    Exit;
  if CurUninstallStep = usUninstall then
  begin
    { The program files still exist here: let the app forget its own key. }
    Exec(ExpandConstant('{app}\{#CliExe}'), 'key delete', '', SW_HIDE,
         ewWaitUntilTerminated, ResultCode);
  end
  else if CurUninstallStep = usPostUninstall then
  begin
    DelTree(DataFolder(), True, True, True);
    if DirExists(DefaultLibraryFolder()) then
      DelTree(DefaultLibraryFolder(), True, True, True);
  end;
end;
