; Một Cửa Offline: Windows installer (NSIS 3, Modern UI 2, Vietnamese).
;
; Compile (Windows, after PyInstaller built dist\motcua):
;   makensis /INPUTCHARSET UTF8 /DSOURCE_DIR=..\..\dist\motcua /DVERSION=0.1.0 motcua.nsi
; Compile check on Linux (CI: the script builds; the payload is a stand-in):
;   bash packaging/windows/build.sh
;
; Defines:
;   SOURCE_DIR   (required) the PyInstaller one-folder bundle: motcua.exe, motcua-gui.exe,
;                LICENSE.txt, THIRD-PARTY-NOTICES.txt, _internal\...
;   LICENSE_FILE the text of the license page (default SOURCE_DIR\LICENSE.txt: the
;                repository's LICENSE, which motcua.spec copies with a UTF-8 byte order
;                mark so that the page shows the Vietnamese letters)
;   VERSION      application version (default 0.0.0); VI_VERSION its 4-number form for
;                the file properties (default VERSION.0)
;   OUTFILE      installer file (default motcua-offline-VERSION-setup.exe)
;   COMPRESSOR   lzma (default, release) | zlib | none (fast compile checks)
;   TARGET       makensis target, default x86-unicode (a 32-bit installer, which installs
;                the 64-bit program fine); amd64-unicode needs the amd64 stubs (Debian's
;                nsis has them, the Windows NSIS download does not)
;
; Command line of the installer:
;   motcua-offline-X.Y.Z-setup.exe                      interactive, Vietnamese
;   motcua-offline-X.Y.Z-setup.exe /S                   silent
;   motcua-offline-X.Y.Z-setup.exe /S /PROVISION=D:\quay1.json
;       silent, then `motcua.exe provision D:\quay1.json --data-dir <station folder>`;
;       environment variables in the path are expanded by the installer, so one fleet
;       command serves every PC: /PROVISION=\\may-chu\motcua\%COMPUTERNAME%.json.
;       Its output (with the technician's one-time password) goes to provision.log in
;       the station folder, readable by SYSTEM and Administrators only; exit code 0 ok,
;       2 provisioning file not found (nothing installed), 3 provisioning failed (the
;       program is installed, see the log)
;   /CLERKS=GROUP    the Windows group whose accounts work at the counter (default: the
;                    local Users group, by SID); they, SYSTEM and Administrators are the
;                    only ones who can open the station folder
;   /D=C:\Duong\Dan  install folder (NSIS rule: last argument, no quotes)
;   /FORCE           install even over a newer installed version (a downgrade)
;   Refusals, before any file is replaced (exit codes, also for an interactive run):
;     4  the program is running: motcua.exe or motcua-gui.exe in the install folder is in
;        use (the GUI, or a scheduled `motcua sync --once`); interactively a Vietnamese
;        message offers Thử lại (retry) / Hủy (cancel)
;     5  a newer version is installed (the registry's version) and /FORCE was not given
;   Each refusal is also logged in English to %TEMP%\motcua-offline-setup.log.
; The station folder: %ProgramData%\MotCuaOffline (MOTCUA_DATA_DIR if set machine-wide),
; one station for every Windows account of the PC (desktop_app/machine_station.py). The
; installer makes it and sets its ACL, so it can run as SYSTEM (SCCM, PDQ, Group Policy)
; or as any administrator.
; Uninstaller:
;   Uninstall.exe          asks; the data directory is kept unless the box is ticked
;   Uninstall.exe /S       silent, keeps the data
;   Uninstall.exe /S /PURGE  silent, deletes the data directory too
;   Exit code 4 (and the same message as the installer's) while the program runs.

!ifdef TARGET
  Target "${TARGET}"
!endif
Unicode true
ManifestDPIAware true

!include "MUI2.nsh"
!include "FileFunc.nsh"
!include "WordFunc.nsh"
!include "LogicLib.nsh"
!include "nsDialogs.nsh"
!include "x64.nsh"
!include "WinMessages.nsh"

!ifndef SOURCE_DIR
  !error "Thiếu -DSOURCE_DIR=<thư mục dist/motcua do PyInstaller tạo>"
!endif
!ifndef VERSION
  !define VERSION "0.0.0"
!endif
!ifndef VI_VERSION
  !define VI_VERSION "${VERSION}.0"
!endif
!ifndef OUTFILE
  !define OUTFILE "motcua-offline-${VERSION}-setup.exe"
!endif
!ifndef COMPRESSOR
  !define COMPRESSOR "lzma"
!endif
!ifndef LICENSE_FILE
  !define LICENSE_FILE "${SOURCE_DIR}/LICENSE.txt"
!endif

!define APP_NAME "Một Cửa Offline"
!define APP_ID "MotCuaOffline"
!define PUBLISHER "Dự án Một Cửa Offline"
!define CLI_EXE "motcua.exe"
!define GUI_EXE "motcua-gui.exe"
!define UNINST_EXE "Uninstall.exe"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP_ID}"
!define APP_KEY "Software\${APP_ID}"
; desktop_app/paths.py and machine_station.py: %ProgramData%\MotCuaOffline on Windows,
; unless MOTCUA_DATA_DIR is set.
!define DATA_DIR_NAME "MotCuaOffline"
; The station folder's ACL, as machine_station.acl_command() writes it: by SID, since the
; group names are translated in a Vietnamese Windows.
!define SID_SYSTEM "*S-1-5-18"
!define SID_ADMINS "*S-1-5-32-544"
!define SID_USERS "*S-1-5-32-545"
!define DATA_DIR_ENV "MOTCUA_DATA_DIR"
!define SETUP_LOG "motcua-offline-setup.log"

Name "${APP_NAME}"
Caption "Cài đặt ${APP_NAME} ${VERSION}"
UninstallCaption "Gỡ cài đặt ${APP_NAME}"
BrandingText "${APP_NAME} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${APP_ID}"
InstallDirRegKey HKLM "${APP_KEY}" "InstallDir"
RequestExecutionLevel admin
ShowInstDetails show
ShowUninstDetails show

!if "${COMPRESSOR}" == "none"
  SetCompress off
!else if "${COMPRESSOR}" == "zlib"
  SetCompressor /SOLID zlib
!else
  SetCompressor /SOLID lzma
  SetCompressorDictSize 32
!endif

VIProductVersion "${VI_VERSION}"
VIAddVersionKey /LANG=1066 "ProductName" "${APP_NAME}"
VIAddVersionKey /LANG=1066 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=1066 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=1066 "FileDescription" "Bộ cài đặt ${APP_NAME}"
VIAddVersionKey /LANG=1066 "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=1066 "LegalCopyright" "GPL-3.0-or-later"

!define MUI_ICON "${__FILEDIR__}/motcua.ico"
!define MUI_UNICON "${__FILEDIR__}/motcua.ico"
!define MUI_ABORTWARNING
!define MUI_UNABORTWARNING

Var ProvisionFile   ; /PROVISION=... (full path), empty when not given
Var DataDir         ; the clerk's data directory (kept unless purged)
Var PurgeData       ; 1: delete DataDir on uninstall
Var ClerksGroup     ; /CLERKS=..., default ${SID_USERS}
Var PurgeCheckbox
Var Force           ; 1: /FORCE, a downgrade is allowed

; ---------------------------------------------------------------- installer pages
!insertmacro MUI_PAGE_WELCOME
; GPL-3.0-or-later: nothing to accept in order to use the program, so the page only
; informs (a "Tiếp" button, no "I agree"); the third-party licenses are in
; THIRD-PARTY-NOTICES.txt next to the program.
!define MUI_LICENSEPAGE_BUTTON "$(^NextBtn)"
!define MUI_LICENSEPAGE_TEXT_BOTTOM "Giấy phép của các thành phần bên thứ ba (Qt, FFmpeg, zbar, phông chữ Liberation, các thư viện Python) nằm trong tệp THIRD-PARTY-NOTICES.txt ở thư mục cài đặt."
!insertmacro MUI_PAGE_LICENSE "${LICENSE_FILE}"
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!define MUI_FINISHPAGE_RUN "$INSTDIR\${GUI_EXE}"
!define MUI_FINISHPAGE_RUN_TEXT "Mở ${APP_NAME} ngay"
!insertmacro MUI_PAGE_FINISH

; -------------------------------------------------------------- uninstaller pages
!insertmacro MUI_UNPAGE_CONFIRM
UninstPage custom un.PurgePageCreate un.PurgePageLeave
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "Vietnamese"

; ------------------------------------------------------------------------- helpers
!macro STRIP_QUOTES VAR
  StrCpy $R9 ${VAR} 1
  ${If} $R9 == '"'
    StrCpy ${VAR} ${VAR} "" 1
    StrCpy $R9 ${VAR} 1 -1
    ${If} $R9 == '"'
      StrCpy ${VAR} ${VAR} -1
    ${EndIf}
  ${EndIf}
!macroend

!macro FIND_DATA_DIR UN
  Function ${UN}FindDataDir
    ReadEnvStr $DataDir "${DATA_DIR_ENV}"
    ${If} $DataDir == ""
      SetShellVarContext all  ; $APPDATA is then %ProgramData%
      StrCpy $DataDir "$APPDATA\${DATA_DIR_NAME}"
    ${EndIf}
  FunctionEnd
!macroend
!insertmacro FIND_DATA_DIR ""
!insertmacro FIND_DATA_DIR "un."

; A line for the technician in %TEMP%\motcua-offline-setup.log (a silent install shows
; nothing else), and in the details list when there is one.
!macro SETUP_LOG TEXT
  DetailPrint "${TEXT}"
  Push "${TEXT}"
  !ifdef __UNINSTALL__
    Call un.AppendSetupLog
  !else
    Call AppendSetupLog
  !endif
!macroend

!macro APPEND_SETUP_LOG UN
Function ${UN}AppendSetupLog
  Exch $R8
  Push $R7
  Push $0
  Push $1
  Push $2
  Push $3
  Push $4
  Push $5
  Push $6
  ${GetTime} "" "L" $0 $1 $2 $3 $4 $5 $6
  ClearErrors
  FileOpen $R7 "$TEMP\${SETUP_LOG}" a
  ${IfNot} ${Errors}
    FileSeek $R7 0 END
    FileWrite $R7 "$2-$1-$0 $4:$5:$6 setup ${VERSION}: $R8$\r$\n"
    FileClose $R7
  ${EndIf}
  Pop $6
  Pop $5
  Pop $4
  Pop $3
  Pop $2
  Pop $1
  Pop $0
  Pop $R7
  Pop $R8
FunctionEnd
!macroend
!insertmacro APPEND_SETUP_LOG ""
!insertmacro APPEND_SETUP_LOG "un."

; Installing an older version over a newer one: the newer one may already have migrated
; the clerk's database to a schema the older program does not know. VersionCompare only
; understands numbers and dots, hence the four-number VI_VERSION on both sides
; (VersionNumbers; DisplayVersion for installs made before that value existed).
Function RefuseDowngrade
  ReadRegStr $R1 HKLM "${APP_KEY}" "VersionNumbers"
  ReadRegStr $R2 HKLM "${UNINST_KEY}" "DisplayVersion"
  ${If} $R1 == ""
    StrCpy $R1 $R2
  ${EndIf}
  ${If} $R1 == ""
    Return
  ${EndIf}
  ${VersionCompare} "${VI_VERSION}" "$R1" $R3  ; 2: this installer is older
  ${If} $R3 != 2
    Return
  ${EndIf}
  ${If} $Force == 1
    !insertmacro SETUP_LOG "Downgrade from installed version $R2 forced with /FORCE"
    Return
  ${EndIf}
  !insertmacro SETUP_LOG "Refused (exit 5): installed version $R2 is newer than ${VERSION}; run with /FORCE to downgrade"
  MessageBox MB_ICONSTOP "Máy này đã cài ${APP_NAME} phiên bản $R2, mới hơn phiên bản ${VERSION} của bộ cài này.$\r$\n$\r$\nKhông cài bản cũ đè lên bản mới: dữ liệu của quầy có thể đã được nâng cấp cho bản mới.$\r$\nKỹ thuật viên: nếu thật sự cần hạ phiên bản, chạy lại bộ cài với tham số /FORCE." /SD IDOK
  SetErrorLevel 5
  Abort
FunctionEnd

; Windows refuses to open a running program's .exe for writing: that is how the GUI or a
; scheduled `motcua sync --once` (the same motcua.exe) is detected before any file of
; the bundle is replaced (a half-replaced bundle would not start).
!macro FIND_IN_USE EXE
  ${If} ${FileExists} "$INSTDIR\${EXE}"
    ClearErrors
    FileOpen $R4 "$INSTDIR\${EXE}" a
    ${If} ${Errors}
      StrCpy $R3 "${EXE}"
    ${Else}
      FileClose $R4
    ${EndIf}
  ${EndIf}
!macroend

!macro REFUSE_WHILE_RUNNING UN WHAT
Function ${UN}RefuseWhileRunning
  check:
  StrCpy $R3 ""
  !insertmacro FIND_IN_USE "${GUI_EXE}"
  !insertmacro FIND_IN_USE "${CLI_EXE}"
  ${If} $R3 == ""
    Return
  ${EndIf}
  MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION "${APP_NAME} đang chạy trên máy này (tệp $R3 đang được sử dụng), nên chưa thể ${WHAT}.$\r$\n$\r$\nHãy đóng ${APP_NAME} (kể cả ở tài khoản Windows khác đang đăng nhập) và dừng lượt đồng bộ theo lịch nếu đang chạy (tác vụ motcua sync trong Task Scheduler), rồi bấm Thử lại.$\r$\nBấm Hủy để dừng ${WHAT}: chưa có tệp nào bị thay đổi." /SD IDCANCEL IDRETRY check
  !insertmacro SETUP_LOG "Refused (exit 4): $INSTDIR\$R3 is in use (the program or a scheduled sync is running); nothing was replaced"
  SetErrorLevel 4
  Abort
FunctionEnd
!macroend
!insertmacro REFUSE_WHILE_RUNNING "" "cài đặt"
!insertmacro REFUSE_WHILE_RUNNING "un." "gỡ cài đặt"

; ----------------------------------------------------------------------- installer
Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_ICONSTOP "${APP_NAME} cần Windows 64-bit." /SD IDOK
    SetErrorLevel 1
    Abort
  ${EndIf}
  SetRegView 64
  SetShellVarContext all
  Call FindDataDir

  ${GetParameters} $R0
  ; "/PROVISION=C:\a b\q.json" (how shells quote a whole argument) reads like
  ; /PROVISION="C:\a b\q.json" for GetOptions
  ${WordReplace} $R0 '"/PROVISION=' '/PROVISION="' "+" $R0
  ClearErrors
  ${GetOptions} $R0 "/PROVISION=" $ProvisionFile
  ${If} ${Errors}
    StrCpy $ProvisionFile ""
  ${EndIf}
  !insertmacro STRIP_QUOTES $ProvisionFile
  ClearErrors
  ${GetOptions} $R0 "/CLERKS=" $ClerksGroup
  ${If} ${Errors}
  ${OrIf} $ClerksGroup == ""
    StrCpy $ClerksGroup "${SID_USERS}"
  ${EndIf}
  !insertmacro STRIP_QUOTES $ClerksGroup
  StrCpy $Force 0
  ClearErrors
  ${GetOptions} $R0 "/FORCE" $R1
  ${IfNot} ${Errors}
    StrCpy $Force 1
  ${EndIf}
  Call RefuseDowngrade
  ${If} $ProvisionFile != ""
    ; %COMPUTERNAME% and the like: one fleet command line, a file per PC
    ExpandEnvStrings $ProvisionFile $ProvisionFile
    ; a relative path is relative to where the installer was started, not to $INSTDIR
    GetFullPathName $ProvisionFile $ProvisionFile
    ${IfNot} ${FileExists} $ProvisionFile
      MessageBox MB_ICONSTOP "Không tìm thấy tệp cấu hình quầy:$\r$\n$ProvisionFile" /SD IDOK
      SetErrorLevel 2
      Abort
    ${EndIf}
  ${EndIf}
FunctionEnd

Section "${APP_NAME}" SecMain
  SectionIn RO
  SetShellVarContext all
  Call RefuseWhileRunning

  ; An upgrade replaces the whole bundle: no module of the previous version lingers.
  ; The data directory is elsewhere and only gets its ACL here.
  RMDir /r "$INSTDIR\_internal"
  ; Installers before the station folder wrote the provisioning output (a one-time
  ; password) here, where every local account can read it.
  Delete "$INSTDIR\provision.log"

  SetOutPath "$INSTDIR"
  File /r "${SOURCE_DIR}/*"
  File "/oname=motcua.ico" "${__FILEDIR__}/motcua.ico"

  WriteUninstaller "$INSTDIR\${UNINST_EXE}"

  CreateDirectory "$SMPROGRAMS\${APP_NAME}"
  CreateShortcut "$SMPROGRAMS\${APP_NAME}\${APP_NAME}.lnk" "$INSTDIR\${GUI_EXE}" "" \
    "$INSTDIR\motcua.ico" 0 SW_SHOWNORMAL "" "Tiếp nhận hồ sơ thủ tục hành chính không cần mạng"
  CreateShortcut "$SMPROGRAMS\${APP_NAME}\Gỡ cài đặt ${APP_NAME}.lnk" "$INSTDIR\${UNINST_EXE}"
  CreateShortcut "$DESKTOP\${APP_NAME}.lnk" "$INSTDIR\${GUI_EXE}" "" "$INSTDIR\motcua.ico" 0

  WriteRegStr HKLM "${APP_KEY}" "InstallDir" "$INSTDIR"
  WriteRegStr HKLM "${APP_KEY}" "Version" "${VERSION}"
  WriteRegStr HKLM "${APP_KEY}" "VersionNumbers" "${VI_VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayName" "${APP_NAME}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\motcua.ico"
  WriteRegStr HKLM "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "UninstallString" '"$INSTDIR\${UNINST_EXE}"'
  WriteRegStr HKLM "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\${UNINST_EXE}" /S'
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKLM "${UNINST_KEY}" "EstimatedSize" "$0"

  Call SetUpStationFolder
  Call RunProvision
SectionEnd

; The PC's one station folder, for the clerks' group (machine_station.acl_command): the
; program itself may then run under any of their accounts, and a scheduled sync as SYSTEM.
Function SetUpStationFolder
  CreateDirectory "$DataDir"
  WriteRegStr HKLM "${APP_KEY}" "ClerksGroup" "$ClerksGroup"
  nsExec::ExecToLog '"$SYSDIR\icacls.exe" "$DataDir" /inheritance:r /grant:r ${SID_SYSTEM}:(OI)(CI)F ${SID_ADMINS}:(OI)(CI)F "$ClerksGroup:(OI)(CI)M" /C /Q'
  Pop $0
  ${If} $0 != "0"
    !insertmacro SETUP_LOG "icacls on $DataDir exited $0: check the group given with /CLERKS= ($ClerksGroup)"
    MessageBox MB_ICONEXCLAMATION "Không đặt được quyền truy cập cho thư mục dữ liệu của quầy:$\r$\n$DataDir$\r$\n(nhóm tài khoản: $ClerksGroup, mã lỗi $0).$\r$\nKỹ thuật viên kiểm tra lại tham số /CLERKS=." /SD IDOK
  ${EndIf}
FunctionEnd

; `motcua.exe provision FILE` (station settings, gateway, accounts from the technician's
; file). Run through cmd.exe so that its messages land in provision.log: a silent
; install shows nothing, and the technician reads the log afterwards. The log holds the
; technician's one-time password: it is made empty first and given to SYSTEM and
; Administrators only (no inherited entries), then appended to.
Function RunProvision
  ${If} $ProvisionFile == ""
    Return
  ${EndIf}
  StrCpy $R5 "$DataDir\provision.log"
  DetailPrint "Áp dụng tệp cấu hình quầy: $ProvisionFile"
  Delete "$R5"
  FileOpen $R6 "$R5" w
  FileClose $R6
  nsExec::ExecToLog '"$SYSDIR\icacls.exe" "$R5" /inheritance:r /grant:r ${SID_SYSTEM}:F ${SID_ADMINS}:F /C /Q'
  Pop $0
  ${If} $0 != "0"
    ; never leave a password where the clerks' group can read it
    !insertmacro SETUP_LOG "icacls on $R5 exited $0: provisioning not run"
    Delete "$R5"
    MessageBox MB_ICONEXCLAMATION "Đã cài đặt ${APP_NAME} nhưng chưa áp dụng tệp cấu hình quầy: không tạo được tệp nhật ký riêng cho quản trị viên (mã lỗi $0)." /SD IDOK
    SetErrorLevel 3
    Return
  ${EndIf}
  nsExec::Exec '"$SYSDIR\cmd.exe" /C ""$INSTDIR\${CLI_EXE}" provision "$ProvisionFile" --data-dir "$DataDir" >> "$R5" 2>&1"'
  Pop $0
  ${If} $0 == "0"
    DetailPrint "Đã áp dụng cấu hình quầy (nhật ký: $R5)."
  ${Else}
    DetailPrint "Áp dụng cấu hình quầy thất bại (mã $0), xem $R5"
    MessageBox MB_ICONEXCLAMATION "Đã cài đặt ${APP_NAME} nhưng chưa áp dụng được tệp cấu hình quầy (mã lỗi $0).$\r$\nXem nhật ký (chỉ quản trị viên mở được): $R5" /SD IDOK
    SetErrorLevel 3
  ${EndIf}
FunctionEnd

; --------------------------------------------------------------------- uninstaller
Function un.onInit
  SetRegView 64
  SetShellVarContext all
  Call un.FindDataDir
  StrCpy $PurgeData 0
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/PURGE" $R1
  ${IfNot} ${Errors}
    StrCpy $PurgeData 1
  ${EndIf}
FunctionEnd

Function un.PurgePageCreate
  !insertmacro MUI_HEADER_TEXT "Dữ liệu của quầy" "Giữ lại hay xóa hồ sơ đã tiếp nhận trên máy này."
  nsDialogs::Create 1018
  Pop $0
  ${If} $0 == error
    Abort
  ${EndIf}
  ${NSD_CreateLabel} 0 0 100% 60u "Cơ sở dữ liệu hồ sơ, bản quét, bản sao lưu và nhật ký nằm trong thư mục:$\r$\n$\r$\n$DataDir$\r$\n$\r$\nMặc định thư mục này được GIỮ LẠI, để cài lại hoặc nâng cấp mà không mất hồ sơ."
  Pop $0
  ${NSD_CreateCheckbox} 0 72u 100% 12u "Xóa luôn toàn bộ dữ liệu của quầy (không thể khôi phục)"
  Pop $PurgeCheckbox
  ${If} $PurgeData == 1
    ${NSD_Check} $PurgeCheckbox
  ${EndIf}
  nsDialogs::Show
FunctionEnd

Function un.PurgePageLeave
  ${NSD_GetState} $PurgeCheckbox $0
  ${If} $0 == ${BST_CHECKED}
    MessageBox MB_YESNO|MB_ICONEXCLAMATION|MB_DEFBUTTON2 "Xóa vĩnh viễn mọi hồ sơ, bản quét và bản sao lưu trong$\r$\n$DataDir ?$\r$\n$\r$\nHồ sơ chưa đồng bộ lên hệ thống tỉnh sẽ bị mất." IDYES +2
    Abort
    StrCpy $PurgeData 1
  ${Else}
    StrCpy $PurgeData 0
  ${EndIf}
FunctionEnd

Section "Uninstall"
  SetShellVarContext all
  Call un.RefuseWhileRunning
  Delete "$SMPROGRAMS\${APP_NAME}\${APP_NAME}.lnk"
  Delete "$SMPROGRAMS\${APP_NAME}\Gỡ cài đặt ${APP_NAME}.lnk"
  RMDir "$SMPROGRAMS\${APP_NAME}"
  Delete "$DESKTOP\${APP_NAME}.lnk"

  ; Only what the installer put there: never `RMDir /r $INSTDIR` (it may be a folder
  ; the technician chose, with other things in it).
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\${CLI_EXE}"
  Delete "$INSTDIR\${GUI_EXE}"
  Delete "$INSTDIR\motcua.ico"
  Delete "$INSTDIR\LICENSE.txt"
  Delete "$INSTDIR\THIRD-PARTY-NOTICES.txt"
  Delete "$INSTDIR\provision.log"  ; left by installers before the station folder
  Delete "$INSTDIR\${UNINST_EXE}"
  RMDir "$INSTDIR"

  DeleteRegKey HKLM "${UNINST_KEY}"
  DeleteRegKey HKLM "${APP_KEY}"

  ${If} $PurgeData == 1
    DetailPrint "Xóa dữ liệu của quầy: $DataDir"
    RMDir /r "$DataDir"
  ${Else}
    DetailPrint "Giữ lại dữ liệu của quầy: $DataDir"
  ${EndIf}
SectionEnd
