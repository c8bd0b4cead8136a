# winkube.node windows_facts probe. Read-only: it changes nothing on the host.
# Run through ansible.windows.win_powershell by the windows_facts action plugin; every decision
# about what the values mean is made on the controller (plugins/module_utils/).
[CmdletBinding(SupportsShouldProcess)]
param ()

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

$currentVersion = Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'

# The three places Windows records that a reboot is outstanding (servicing, Windows Update,
# pending file renames); any one of them means the next change may need a reboot first.
$sessionManager = Get-ItemProperty -LiteralPath 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' -ErrorAction SilentlyContinue
$rebootPending = (
    (Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending') -or
    (Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired') -or
    ($null -ne $sessionManager -and $null -ne $sessionManager.PSObject.Properties['PendingFileRenameOperations'])
)

[PSCustomObject]@{
    CurrentBuildNumber = $currentVersion.CurrentBuildNumber
    UBR = $currentVersion.UBR
    DisplayVersion = $currentVersion.PSObject.Properties['DisplayVersion'].Value
    ReleaseId = $currentVersion.PSObject.Properties['ReleaseId'].Value
    EditionID = $currentVersion.EditionID
    InstallationType = $currentVersion.InstallationType
    ProductName = $currentVersion.ProductName
    RebootPending = [bool]$rebootPending
}
