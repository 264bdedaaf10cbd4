; Inno Setup 6 script for Kling Motion Studio (one-folder PyInstaller build).
;
; Built by `python packaging/build.py` on Windows, which passes:
;   /DAppVersion=0.1.0  /DSourceDir=...\dist\kling-desktop  /DOutputDir=...\dist
;   /DIconFile=...\build\icons\app.ico
; By hand:  iscc /DAppVersion=0.1.0 /DSourceDir=dist\kling-desktop packaging\windows\kling_desktop.iss
;
; Installs per user by default (no administrator prompt; the wizard offers
; "install for all users" to administrators). The uninstaller keeps the user's
; library, job history, settings and saved key unless they say otherwise.

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

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole one-folder bundle. "ignoreversion": always replace, the bundle is one unit.
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; An upgrade must not leave libraries of the previous version next to the new ones.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Animate a character picture with the motion of a video"
Name: "{autoprograms}\{#AppName} (demo, no key needed)"; Filename: "{app}\{#AppExe}"; Parameters: "--demo"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

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
  Question :=
    'Also remove my saved videos and settings?' + #13#10 + #13#10 +
    'Yes: delete the library folder ' + DefaultLibraryFolder() +
    ', the job history, settings and logs (' + DataFolder() +
    '), and forget the API key saved in Windows Credential Manager.' + #13#10 + #13#10 +
    'No (recommended): keep them, so a reinstall finds everything again.' + #13#10 + #13#10 +
    'A library folder you chose yourself in Settings is never deleted.';
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
