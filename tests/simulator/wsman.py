"""WS-Management / WinRS (``windows/shell/cmd``) message handling, independent of HTTP and auth.

One ``WinRSService`` per simulated host keeps its shells and their commands. ``handle`` takes a
SOAP envelope (already decrypted) and returns the response envelope, or raises ``WSManFault``
which the HTTP layer sends as ``500`` with a SOAP fault body, as the Windows WinRM service does.

Operations: Create (open a shell), Command, Send (stdin), Receive (stdout/stderr/exit code),
Signal (terminate), Delete (close the shell). A command runs when its output is first asked for
and its stdin is complete; its output is handed out in pieces that fit the client's
``MaxEnvelopeSize`` so large outputs take several Receives, as on Windows.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

__all__ = [
    "NS",
    "Command",
    "Request",
    "Shell",
    "WSManFault",
    "WinRSService",
    "fault_envelope",
    "parse_request",
]

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
}

SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
_TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer/"
_SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/"
_ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
_STATE_DONE = _SHELL + "CommandState/Done"
_STATE_RUNNING = _SHELL + "CommandState/Running"

# WSManFault codes the client treats specially (pywinrm / ansible winrm plugin).
CODE_OPERATION_TIMEOUT = 2150858793  # 0x80338029: pywinrm retries the Receive
CODE_SHELL_NOT_FOUND = 2150858843  # 0x8033805B
# The simulator's own faults (unsupported action/resource, malformed request) use the
# generic WS-Management error base so no real, more specific meaning is implied.
CODE_SIMULATOR = 2150858752  # 0x80338000

# Room left in an envelope for everything but the base64 stream data.
_ENVELOPE_OVERHEAD = 2048


class WSManFault(Exception):
    """A SOAP fault, sent as HTTP 500."""

    def __init__(self, code: int, reason: str, *, subcode: str = "w:InternalError", value: str = "s:Receiver") -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.subcode = subcode
        self.value = value


@dataclasses.dataclass
class Request:
    action: str
    resource_uri: str
    message_id: str
    shell_id: str | None
    options: dict[str, str]
    body: ET.Element
    max_envelope_size: int
    operation_timeout: float


@dataclasses.dataclass
class Command:
    id: str
    command: str
    arguments: list[str]
    console_mode_stdin: bool
    stdin: list[bytes] = dataclasses.field(default_factory=list)
    sends: int = 0
    stdin_done: bool = False
    started: bool = False
    done: bool = False
    exit_code: int = 0
    stdout: bytes = b""
    stderr: bytes = b""
    out_pos: int = 0
    err_pos: int = 0

    @property
    def stdin_bytes(self) -> bytes:
        return b"".join(self.stdin)


@dataclasses.dataclass
class Shell:
    id: str
    codepage: int
    noprofile: bool
    working_directory: str | None
    environment: dict[str, str]
    owner: str
    client_ip: str
    created: float = dataclasses.field(default_factory=time.time)
    commands: dict[str, Command] = dataclasses.field(default_factory=dict)

    @property
    def encoding(self) -> str:
        return "utf-8" if self.codepage == 65001 else f"cp{self.codepage}"


def _find(elem: ET.Element, path: str) -> ET.Element | None:
    return elem.find(path, NS)


def _text(elem: ET.Element | None) -> str:
    return (elem.text or "").strip() if elem is not None else ""


def _duration_seconds(value: str, default: float) -> float:
    """``PT20S`` / ``PT20.000S`` → 20.0."""
    if value.startswith("PT") and value.endswith("S"):
        try:
            return float(value[2:-1])
        except ValueError:
            return default
    return default


def parse_request(data: bytes) -> Request:
    try:
        root = ET.fromstring(data)  # noqa: S314 - the local client's own envelope
    except ET.ParseError as exc:
        raise WSManFault(
            CODE_SIMULATOR, f"simulator: the request is not XML: {exc}", subcode="w:InvalidMessage"
        ) from exc
    header = _find(root, "s:Header")
    body = _find(root, "s:Body")
    if header is None or body is None:
        raise WSManFault(CODE_SIMULATOR, "simulator: the request is not a SOAP envelope", subcode="w:InvalidMessage")
    shell_id = None
    for sel in header.findall("w:SelectorSet/w:Selector", NS):
        if sel.get("Name") == "ShellId":
            shell_id = _text(sel)
    options = {o.get("Name", ""): _text(o) for o in header.findall("w:OptionSet/w:Option", NS)}
    max_env = _text(_find(header, "w:MaxEnvelopeSize"))
    return Request(
        action=_text(_find(header, "a:Action")),
        resource_uri=_text(_find(header, "w:ResourceURI")),
        message_id=_text(_find(header, "a:MessageID")),
        shell_id=shell_id,
        options=options,
        body=body,
        max_envelope_size=int(max_env) if max_env.isdigit() else 153600,
        operation_timeout=_duration_seconds(_text(_find(header, "w:OperationTimeout")), 60.0),
    )


def _envelope(action: str, relates_to: str, body: str) -> bytes:
    xml = (
        '<s:Envelope xml:lang="en-US"'
        f' xmlns:s="{NS["s"]}" xmlns:a="{NS["a"]}" xmlns:x="{NS["x"]}" xmlns:w="{NS["w"]}"'
        f' xmlns:rsp="{NS["rsp"]}" xmlns:p="{NS["p"]}">'
        "<s:Header>"
        f"<a:Action>{escape(action)}</a:Action>"
        f"<a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
        f"<a:To>{_ANONYMOUS}</a:To>"
        f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo>"
        "</s:Header>"
        f"<s:Body>{body}</s:Body>"
        "</s:Envelope>"
    )
    return xml.encode("utf-8")


def fault_envelope(fault: WSManFault, relates_to: str, machine: str) -> bytes:
    reason = escape(fault.reason)
    body = (
        "<s:Fault>"
        f"<s:Code><s:Value>{fault.value}</s:Value><s:Subcode><s:Value>{fault.subcode}</s:Value></s:Subcode></s:Code>"
        f'<s:Reason><s:Text xml:lang="en-US">{reason}</s:Text></s:Reason>'
        "<s:Detail>"
        f'<f:WSManFault xmlns:f="{NS["f"]}" Code="{fault.code}" Machine="{escape(machine)}">'
        f"<f:Message>{reason}</f:Message></f:WSManFault>"
        "</s:Detail>"
        "</s:Fault>"
    )
    return _envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates_to, body)


# (shell, command) -> (exit code, stdout bytes, stderr bytes)
Executor = Callable[[Shell, Command], tuple[int, bytes, bytes]]


class WinRSService:
    """The WinRS shells of one host."""

    def __init__(self, machine: str, executor: Executor, *, endpoint: str = "") -> None:
        self.machine = machine
        self.executor = executor
        self.endpoint = endpoint
        self.shells: dict[str, Shell] = {}
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- lifecycle

    def invalidate_all(self) -> int:
        """Forget every shell (the host rebooted); return how many there were."""
        with self._lock:
            n = len(self.shells)
            self.shells.clear()
            return n

    # ---------------------------------------------------------------- dispatch

    def handle(self, req: Request, *, user: str, client_ip: str) -> bytes:
        if req.resource_uri != SHELL_URI:
            raise WSManFault(
                CODE_SIMULATOR,
                f"simulator: resource {req.resource_uri or '(none)'} is not supported; only {SHELL_URI}",
                subcode="w:DestinationUnreachable",
            )
        handlers: dict[str, Callable[[Request, str, str], bytes]] = {
            _TRANSFER + "Create": self._create,
            _TRANSFER + "Delete": self._delete,
            _SHELL + "Command": self._command,
            _SHELL + "Send": self._send,
            _SHELL + "Receive": self._receive,
            _SHELL + "Signal": self._signal,
        }
        handler = handlers.get(req.action)
        if handler is None:
            raise WSManFault(
                CODE_SIMULATOR,
                f"simulator: WS-Management action {req.action or '(none)'} is not supported",
                subcode="a:ActionNotSupported",
                value="s:Sender",
            )
        return handler(req, user, client_ip)

    def _shell(self, req: Request) -> Shell:
        shell = self.shells.get(req.shell_id or "")
        if shell is None:
            raise WSManFault(
                CODE_SHELL_NOT_FOUND,
                f"The request for the Windows Remote Shell with ShellId {req.shell_id} failed because the shell was "
                "not found on the server. Possible causes are: the specified ShellId is incorrect or the shell no "
                "longer exists on the server. Provide the correct ShellId or create a new shell and retry the "
                "operation.",
            )
        return shell

    def _command_of(self, shell: Shell, command_id: str) -> Command:
        cmd = shell.commands.get(command_id)
        if cmd is None:
            raise WSManFault(CODE_SIMULATOR, f"simulator: command {command_id} is not known in shell {shell.id}")
        return cmd

    # ---------------------------------------------------------------- operations

    def _create(self, req: Request, user: str, client_ip: str) -> bytes:
        spec = _find(req.body, "rsp:Shell")
        env = {}
        if spec is not None:
            env = {v.get("Name", ""): v.text or "" for v in spec.findall("rsp:Environment/rsp:Variable", NS)}
        codepage = req.options.get("WINRS_CODEPAGE", "437")
        shell = Shell(
            id=str(uuid.uuid4()).upper(),
            codepage=int(codepage) if codepage.isdigit() else 437,
            noprofile=req.options.get("WINRS_NOPROFILE", "FALSE").upper() == "TRUE",
            working_directory=(_text(_find(spec, "rsp:WorkingDirectory")) or None) if spec is not None else None,
            environment=env,
            owner=user,
            client_ip=client_ip,
        )
        with self._lock:
            self.shells[shell.id] = shell
        body = (
            "<x:ResourceCreated>"
            f"<a:Address>{escape(self.endpoint)}</a:Address>"
            "<a:ReferenceParameters>"
            f"<w:ResourceURI>{SHELL_URI}</w:ResourceURI>"
            f'<w:SelectorSet><w:Selector Name="ShellId">{shell.id}</w:Selector></w:SelectorSet>'
            "</a:ReferenceParameters>"
            "</x:ResourceCreated>"
            f'<rsp:Shell xmlns:rsp="{NS["rsp"]}">'
            f"<rsp:ShellId>{shell.id}</rsp:ShellId>"
            f"<rsp:ResourceUri>{SHELL_URI}</rsp:ResourceUri>"
            f"<rsp:Owner>{escape(user)}</rsp:Owner>"
            f"<rsp:ClientIP>{escape(client_ip)}</rsp:ClientIP>"
            "<rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut>"
            "<rsp:InputStreams>stdin</rsp:InputStreams>"
            "<rsp:OutputStreams>stdout stderr</rsp:OutputStreams>"
            "<rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime>"
            "<rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity>"
            "</rsp:Shell>"
        )
        return _envelope(_TRANSFER + "CreateResponse", req.message_id, body)

    def _delete(self, req: Request, _user: str, _ip: str) -> bytes:
        with self._lock:
            self._shell(req)
            del self.shells[req.shell_id or ""]
        return _envelope(_TRANSFER + "DeleteResponse", req.message_id, "")

    def _command(self, req: Request, _user: str, _ip: str) -> bytes:
        line = _find(req.body, "rsp:CommandLine")
        if line is None:
            raise WSManFault(CODE_SIMULATOR, "simulator: Command without rsp:CommandLine", subcode="w:InvalidMessage")
        with self._lock:
            shell = self._shell(req)
            cmd = Command(
                id=(line.get("CommandId") or str(uuid.uuid4())).upper(),
                command=_text(_find(line, "rsp:Command")),
                arguments=[a.text or "" for a in line.findall("rsp:Arguments", NS)],
                console_mode_stdin=req.options.get("WINRS_CONSOLEMODE_STDIN", "TRUE").upper() == "TRUE",
            )
            shell.commands[cmd.id] = cmd
        body = f"<rsp:CommandResponse><rsp:CommandId>{cmd.id}</rsp:CommandId></rsp:CommandResponse>"
        return _envelope(_SHELL + "CommandResponse", req.message_id, body)

    def _send(self, req: Request, _user: str, _ip: str) -> bytes:
        with self._lock:
            shell = self._shell(req)
            for stream in req.body.findall("rsp:Send/rsp:Stream", NS):
                cmd = self._command_of(shell, (stream.get("CommandId") or "").upper())
                if cmd.stdin_done:
                    raise WSManFault(CODE_SIMULATOR, f"simulator: stdin of command {cmd.id} was already closed")
                try:
                    cmd.stdin.append(base64.b64decode(stream.text or "", validate=True))
                except binascii.Error as exc:
                    raise WSManFault(CODE_SIMULATOR, f"simulator: stdin is not base64: {exc}") from exc
                cmd.sends += 1
                if (stream.get("End") or "").lower() == "true":
                    cmd.stdin_done = True
        return _envelope(_SHELL + "SendResponse", req.message_id, "<rsp:SendResponse/>")

    def _receive(self, req: Request, _user: str, _ip: str) -> bytes:
        desired = _find(req.body, "rsp:Receive/rsp:DesiredStream")
        command_id = (desired.get("CommandId") if desired is not None else "") or ""
        with self._lock:
            shell = self._shell(req)
            cmd = self._command_of(shell, command_id.upper())
            # Sends seen but no End yet: Windows would block until OperationTimeout.
            waiting = cmd.sends > 0 and not cmd.stdin_done
            run = not cmd.started and not waiting
            if run:
                cmd.started = True
        if waiting:
            time.sleep(min(req.operation_timeout, 0.5))
            raise WSManFault(
                CODE_OPERATION_TIMEOUT,
                "The WS-Management service cannot complete the operation within the time specified in "
                "OperationTimeout.",
                subcode="w:TimedOut",
            )
        if run:
            rc, out, err = self.executor(shell, cmd)
            with self._lock:
                cmd.exit_code, cmd.stdout, cmd.stderr, cmd.done = rc, out, err, True
        return _envelope(_SHELL + "ReceiveResponse", req.message_id, self._output_chunk(cmd, req.max_envelope_size))

    @staticmethod
    def _output_chunk(cmd: Command, max_envelope: int) -> str:
        budget = max(1024, (max_envelope - _ENVELOPE_OVERHEAD) * 3 // 4)
        out = cmd.stdout[cmd.out_pos : cmd.out_pos + budget]
        cmd.out_pos += len(out)
        err = cmd.stderr[cmd.err_pos : cmd.err_pos + max(0, budget - len(out))]
        cmd.err_pos += len(err)
        finished = cmd.out_pos >= len(cmd.stdout) and cmd.err_pos >= len(cmd.stderr)
        parts = ["<rsp:ReceiveResponse>"]
        for name, data in (("stdout", out), ("stderr", err)):
            if data:
                parts.append(
                    f'<rsp:Stream Name="{name}" CommandId="{cmd.id}">{base64.b64encode(data).decode()}</rsp:Stream>'
                )
        if finished:
            parts.append(f'<rsp:Stream Name="stdout" CommandId="{cmd.id}" End="true"></rsp:Stream>')
            parts.append(f'<rsp:Stream Name="stderr" CommandId="{cmd.id}" End="true"></rsp:Stream>')
            parts.append(
                f'<rsp:CommandState CommandId="{cmd.id}" State="{_STATE_DONE}">'
                f"<rsp:ExitCode>{cmd.exit_code}</rsp:ExitCode></rsp:CommandState>"
            )
        else:
            parts.append(f'<rsp:CommandState CommandId="{cmd.id}" State="{_STATE_RUNNING}"/>')
        parts.append("</rsp:ReceiveResponse>")
        return "".join(parts)

    def _signal(self, req: Request, _user: str, _ip: str) -> bytes:
        sig = _find(req.body, "rsp:Signal")
        command_id = ((sig.get("CommandId") if sig is not None else "") or "").upper()
        with self._lock:
            shell = self._shell(req)
            self._command_of(shell, command_id)
            # terminate / ctrl_c / ctrl_break all end the command here: it has already run.
            del shell.commands[command_id]
        return _envelope(_SHELL + "SignalResponse", req.message_id, "<rsp:SignalResponse/>")

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"id": s.id, "owner": s.owner, "codepage": s.codepage, "commands": len(s.commands)}
                for s in self.shells.values()
            ]
