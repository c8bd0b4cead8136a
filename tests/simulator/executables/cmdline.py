"""Windows command lines: split them as ``CommandLineToArgvW`` does, and quote arguments as Go's
``syscall.EscapeArg`` and Ansible's ``ConvertTo-EscapedArgument`` do (the same C runtime rules).

Services keep their command line as one string (``ImagePath``); the binaries started from it see
the split form, so both directions are needed.
"""

from __future__ import annotations


def split(cmdline: str) -> list[str]:
    """Split a command line into argv by the MSVC/``CommandLineToArgvW`` rules.

    The program name (first token) is special: quotes delimit it and backslashes are literal.
    Elsewhere 2n backslashes before a quote give n backslashes and toggle quoting, 2n+1 give n
    backslashes and a literal quote; inside quotes ``""`` is a literal quote.
    """
    argv: list[str] = []
    i, n = 0, len(cmdline)
    while i < n and cmdline[i] in " \t":
        i += 1
    if i >= n:
        return argv
    # program name
    if cmdline[i] == '"':
        end = cmdline.find('"', i + 1)
        end = n if end < 0 else end
        argv.append(cmdline[i + 1 : end])
        i = end + 1
    else:
        start = i
        while i < n and cmdline[i] not in " \t":
            i += 1
        argv.append(cmdline[start:i])
    while True:
        while i < n and cmdline[i] in " \t":
            i += 1
        if i >= n:
            return argv
        buf: list[str] = []
        in_quotes = False
        while i < n:
            c = cmdline[i]
            if c == "\\":
                j = i
                while j < n and cmdline[j] == "\\":
                    j += 1
                count = j - i
                if j < n and cmdline[j] == '"':
                    buf.append("\\" * (count // 2))
                    if count % 2:
                        buf.append('"')
                        i = j + 1
                    else:
                        i = j
                    continue
                buf.append("\\" * count)
                i = j
                continue
            if c == '"':
                if in_quotes and i + 1 < n and cmdline[i + 1] == '"':
                    buf.append('"')
                    i += 2
                    continue
                in_quotes = not in_quotes
                i += 1
                continue
            if c in " \t" and not in_quotes:
                break
            buf.append(c)
            i += 1
        argv.append("".join(buf))


def quote(arg: str) -> str:
    """Quote one argument so that ``split`` gives it back unchanged (Go ``syscall.EscapeArg``)."""
    if arg == "":
        return '""'
    if not any(c in arg for c in ' \t"'):
        return arg
    out = ['"']
    backslashes = 0
    for c in arg:
        if c == "\\":
            backslashes += 1
            continue
        if c == '"':
            out.append("\\" * (backslashes * 2 + 1))
            out.append('"')
        else:
            out.append("\\" * backslashes)
            out.append(c)
        backslashes = 0
    out.append("\\" * (backslashes * 2))
    out.append('"')
    return "".join(out)


def join(argv: list[str]) -> str:
    """The command line for argv. The program name is quoted without escaping (it cannot hold a quote)."""
    if not argv:
        return ""
    head = f'"{argv[0]}"' if any(c in argv[0] for c in " \t") else argv[0]
    return " ".join([head, *(quote(a) for a in argv[1:])])
