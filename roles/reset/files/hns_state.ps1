# winkube.node reset probe. Read-only: it changes nothing on the host.
# It lists the HNS networks (ID, Name, Type) and endpoints (ID, Name, VirtualNetwork,
# VirtualNetworkName); the reset role decides on the controller which of them to delete
# (plugins/module_utils/lifecycle.py, filter reset_hns) and deletes those with hnsdiag.exe.
[CmdletBinding(SupportsShouldProcess)]
param ()

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

# Get-HnsNetwork/Get-HnsEndpoint come with the Containers feature (HostNetworkingService module).
# Without it the cmdlets do not exist and there is no HNS state to clean: that is reported. Any
# other error (the HNS not answering) fails the task, so a reset never goes on blind.
$state = [PSCustomObject]@{ Networks = @(); Endpoints = @(); Unavailable = $null }
try {
    $state.Networks = @(Get-HnsNetwork | Select-Object -Property 'ID', 'Name', 'Type')
    $state.Endpoints = @(Get-HnsEndpoint | Select-Object -Property 'ID', 'Name', 'VirtualNetwork', 'VirtualNetworkName')
}
catch [System.Management.Automation.CommandNotFoundException] {
    $state.Unavailable = $_.Exception.Message
}

$state
