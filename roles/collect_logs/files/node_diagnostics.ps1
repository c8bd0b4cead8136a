# winkube.node collect_logs probe. Read-only: it changes nothing on the host.
# It reports which of the given log files exist, the state of the given services and the HNS
# networks and endpoints; the collect_logs role decides on the controller what to fetch and
# writes the summary (plugins/module_utils/diagnostics.py).
[CmdletBinding(SupportsShouldProcess)]
param (
    [Parameter(Mandatory = $true)][string[]]$Paths,
    [Parameter(Mandatory = $true)][string[]]$Services
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

$files = @(foreach ($path in $Paths) {
    $item = Get-Item -LiteralPath $path -Force -ErrorAction SilentlyContinue
    $isFile = $null -ne $item -and -not $item.PSIsContainer
    [PSCustomObject]@{
        Path = $path
        Exists = $isFile
        Length = if ($isFile) { $item.Length } else { $null }
    }
})

$serviceStates = @(foreach ($name in $Services) {
    $service = Get-Service -Name $name -ErrorAction SilentlyContinue
    [PSCustomObject]@{
        Name = $name
        Exists = $null -ne $service
        Status = if ($service) { $service.Status.ToString() } else { $null }
        StartType = if ($service) { $service.StartType.ToString() } else { $null }
    }
})

# Get-HnsNetwork/Get-HnsEndpoint come with the Containers feature (HostNetworkingService module);
# without it the cmdlets do not exist, and that is reported, not fatal.
$hns = [PSCustomObject]@{ Networks = @(); Endpoints = @(); Error = $null }
try {
    $hns.Networks = @(Get-HnsNetwork | Select-Object -Property 'ID', 'Name', 'Type', 'State', 'ManagementIP', 'Subnets')
    $hns.Endpoints = @(Get-HnsEndpoint | Select-Object -Property 'ID', 'Name', 'VirtualNetworkName', 'IPAddress', 'MacAddress', 'State')
}
catch {
    $hns.Error = $_.Exception.Message
}

[PSCustomObject]@{
    Files = $files
    Services = $serviceStates
    Hns = $hns
}
