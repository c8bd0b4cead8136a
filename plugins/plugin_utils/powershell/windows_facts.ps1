# winkube.node windows_facts probe. Read-only: it changes nothing on the host.
# Run through ansible.windows.win_powershell by the windows_facts action plugin (and by node_state, when a
# role records what it converged to); every decision about what the values mean is made on the controller
# (plugins/module_utils/node_facts.py, plugins/module_utils/converged.py).
[CmdletBinding(SupportsShouldProcess)]
param (
    # The roles' state files (docs/converged-runs.md): each is returned with the live value of every fact it
    # records. Empty: not read.
    [string]$StateDir = '',
    # Facts to read now, a JSON list of {kind, path|name|element, hash}: what a role records.
    [string]$Facts = ''
)

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

# Read once, only when a firewall rule is asked for: enumerating every rule is the slow part.
$script:firewallRules = $null

function Get-TextSha256 {
    param ([string]$Text)
    $sha = [System.Security.Cryptography.SHA256]::Create()
    try {
        $bytes = $sha.ComputeHash([System.Text.Encoding]::UTF8.GetBytes($Text))
    }
    finally {
        $sha.Dispose()
    }
    -join ($bytes | ForEach-Object { $_.ToString('x2') })
}

# One fact, by kind. The keys returned per kind are the ones plugins/module_utils/converged.py KINDS lists.
function Read-WinkubeFact {
    param ($Fact)
    $kind = [string]$Fact.kind
    $out = [ordered]@{ kind = $kind }
    try {
        switch ($kind) {
            'file' {
                $out.path = [string]$Fact.path
                $out.exists = Test-Path -LiteralPath $out.path -PathType Leaf
                $out.sha256 = $null
                if ($out.exists) {
                    $out.sha256 = (Get-FileHash -LiteralPath $out.path -Algorithm SHA256).Hash.ToLowerInvariant()
                }
            }
            'directory' {
                $out.path = [string]$Fact.path
                $out.exists = Test-Path -LiteralPath $out.path -PathType Container
            }
            'service' {
                $out.name = [string]$Fact.name
                if ($out.name -notmatch '^[A-Za-z0-9_.-]+$') { throw "not a plain service name: $($out.name)" }
                $service = Get-CimInstance -ClassName Win32_Service -Filter "Name='$($out.name)'"
                $out.exists = $null -ne $service
                foreach ($key in 'path', 'start_mode', 'delayed_auto_start', 'state', 'username', 'display_name', 'dependencies') {
                    $out[$key] = $null
                }
                if ($out.exists) {
                    $out.path = [string]$service.PathName
                    $out.start_mode = [string]$service.StartMode
                    $out.delayed_auto_start = [bool]$service.DelayedAutoStart
                    $out.state = [string]$service.State
                    $out.username = [string]$service.StartName
                    $out.display_name = [string]$service.DisplayName
                    $out.dependencies = @((Get-Service -Name $out.name).ServicesDependedOn | ForEach-Object { [string]$_.Name } | Sort-Object)
                }
            }
            'registry' {
                $out.path = [string]$Fact.path
                $out.name = [string]$Fact.name
                $out.hash = [bool]$Fact.hash
                $out.type = $null
                $out.data = $null
                $out.sha256 = $null
                $key = Get-Item -LiteralPath $out.path -ErrorAction SilentlyContinue
                $out.exists = $null -ne $key -and ($key.GetValueNames() -contains $out.name)
                if ($out.exists) {
                    $out.type = $key.GetValueKind($out.name).ToString()
                    $data = $key.GetValue($out.name, $null, [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
                    $text = switch ($out.type) {
                        'MultiString' { [string]::Join("`n", [string[]]$data) }
                        'Binary' { -join ([byte[]]$data | ForEach-Object { $_.ToString('x2') }) }
                        default { [string]$data }
                    }
                    if ($out.hash) {
                        $out.sha256 = Get-TextSha256 -Text $text
                    }
                    elseif ($out.type -eq 'MultiString') {
                        $out.data = @([string[]]$data)
                    }
                    elseif ($out.type -in 'DWord', 'QWord') {
                        $out.data = [long]$data
                    }
                    else {
                        $out.data = $text
                    }
                }
            }
            'feature' {
                $out.name = [string]$Fact.name
                if ($out.name -notmatch '^[A-Za-z0-9_.-]+$') { throw "not a plain feature name: $($out.name)" }
                $feature = Get-WindowsFeature -Name $out.name
                $out.exists = $null -ne $feature
                $out.install_state = $null
                if ($out.exists) {
                    $out.install_state = [string]$feature.InstallState
                }
            }
            'firewall_rule' {
                # The INetFwRule properties community.windows.win_firewall_rule sets, by rule name as it finds them.
                $out.name = [string]$Fact.name
                if ($null -eq $script:firewallRules) {
                    $script:firewallRules = @((New-Object -ComObject HNetCfg.FwPolicy2).Rules)
                }
                $matching = @($script:firewallRules | Where-Object { $_.Name -eq $out.name })
                $out.count = $matching.Count
                foreach ($key in 'enabled', 'direction', 'action', 'protocol', 'local_ports', 'remote_addresses', 'profiles') {
                    $out[$key] = $null
                }
                if ($matching.Count -eq 1) {
                    $rule = $matching[0]
                    $out.enabled = [bool]$rule.Enabled
                    $out.direction = [int]$rule.Direction
                    $out.action = [int]$rule.Action
                    $out.protocol = [int]$rule.Protocol
                    $out.local_ports = [string]$rule.LocalPorts
                    $out.remote_addresses = [string]$rule.RemoteAddresses
                    $out.profiles = [int]$rule.Profiles
                }
            }
            'path_element' {
                $out.element = [string]$Fact.element
                $machinePath = [string][Environment]::GetEnvironmentVariable('Path', 'Machine')
                $out.present = @($machinePath -split ';' | Where-Object { $_ -eq $out.element }).Count -gt 0
            }
            default {
                throw "unknown fact kind '$kind'"
            }
        }
    }
    catch {
        $out.error = $_.Exception.Message
    }
    [PSCustomObject]$out
}

$state = $null
if ($StateDir) {
    $state = [ordered]@{
        current_user = [System.Security.Principal.WindowsIdentity]::GetCurrent().User.Value
        error = $null
        files = @()
    }
    try {
        if (Test-Path -LiteralPath $StateDir -PathType Container) {
            $state.files = @(
                Get-ChildItem -LiteralPath $StateDir -Filter '*.json' -File | Sort-Object -Property Name | ForEach-Object {
                    $entry = [ordered]@{ role = $_.BaseName; owner = $null; text = $null; live = @(); error = $null }
                    try {
                        $entry.owner = (Get-Acl -LiteralPath $_.FullName).GetOwner([System.Security.Principal.SecurityIdentifier]).Value
                        $entry.text = [System.IO.File]::ReadAllText($_.FullName)
                        $record = ConvertFrom-Json -InputObject $entry.text
                        $live = [System.Collections.Generic.List[object]]::new()
                        if ($null -ne $record.facts) {
                            foreach ($fact in $record.facts) { $live.Add((Read-WinkubeFact -Fact $fact)) }
                        }
                        $entry.live = $live.ToArray()
                    }
                    catch {
                        $entry.error = $_.Exception.Message
                    }
                    [PSCustomObject]$entry
                }
            )
        }
    }
    catch {
        $state.error = $_.Exception.Message
    }
    $state = [PSCustomObject]$state
}

$requested = [System.Collections.Generic.List[object]]::new()
if ($Facts) {
    foreach ($fact in (ConvertFrom-Json -InputObject $Facts)) { $requested.Add((Read-WinkubeFact -Fact $fact)) }
}

[PSCustomObject]@{
    CurrentBuildNumber = $currentVersion.CurrentBuildNumber
    UBR = $currentVersion.UBR
    DisplayVersion = $currentVersion.PSObject.Properties['DisplayVersion'].Value
    ReleaseId = $currentVersion.PSObject.Properties['ReleaseId'].Value
    EditionID = $currentVersion.EditionID
    InstallationType = $currentVersion.InstallationType
    ProductName = $currentVersion.ProductName
    RebootPending = [bool]$rebootPending
    State = $state
    Facts = $requested.ToArray()
}
