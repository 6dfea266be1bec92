; Inno Setup 6 script: a per-user (or, when elevated, per-machine) installer for the Parley bundle.
;   1. python packaging\build.py            -> dist\Parley\parley.exe and its _internal\ folder
;   2. iscc /DAppVersion=0.1.0 packaging\windows\parley.iss
;                                            -> dist\Parley-0.1.0-windows-x64-setup.exe
; Paths are relative to this file. AppId must never change: it is how upgrades find the old install.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif

[Setup]
AppId={{A338B639-102F-5C56-8CE9-1CB7FA60077E}
AppName=Parley
AppVersion={#AppVersion}
AppVerName=Parley {#AppVersion}
AppPublisher=Parley
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\Parley
DefaultGroupName=Parley
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=Parley-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\resources\icons\parley.ico
UninstallDisplayIcon={app}\parley.exe
UninstallDisplayName=Parley
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole one-dir bundle. Settings and logs live in %LOCALAPPDATA%\Parley, never here.
Source: "..\..\dist\Parley\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Parley"; Filename: "{app}\parley.exe"; AppUserModelID: "Parley.Parley"
Name: "{autodesktop}\Parley"; Filename: "{app}\parley.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\parley.exe"; Description: "{cm:LaunchProgram,Parley}"; Flags: nowait postinstall skipifsilent
