"""Windows command lines: split them as ``CommandLineToArgvW`` does, and quote arguments as Go's
``syscall.EscapeArg`` and Ansible's ``ConvertTo-EscapedArgument`` do (the same C runtime rules).

Services keep their command line as one string (``ImagePath``); the binaries started from it see
the split form, so both directions are needed.
"""

from __future__ import annotations


def split(command_line: str) -> list[str]:
    """Split a command line the way ``CommandLineToArgvW`` does.

    The first argument is a program name: it ends at the first blank outside double quotes and
    backslashes are literal. The rest follow the escaping rules: 2n backslashes before a quote
    give n backslashes and toggle quoting, 2n+1 give n backslashes and a literal quote, ``""``
    inside quotes is a literal quote.
    """
    s = command_line
    i, n = 0, len(s)
    argv: list[str] = []
    # argv[0]
    buf = []
    in_quotes = False
    while i < n:
        c = s[i]
        if c == '"':
            in_quotes = not in_quotes
        elif c in " \t" and not in_quotes:
            break
        else:
            buf.append(c)
        i += 1
    argv.append("".join(buf))
    while i < n:
        while i < n and s[i] in " \t":
            i += 1
        if i >= n:
            break
        buf = []
        in_quotes = False
        while i < n:
            c = s[i]
            if c == "\\":
                start = i
                while i < n and s[i] == "\\":
                    i += 1
                count = i - start
                if i < n and s[i] == '"':
                    buf.append("\\" * (count // 2))
                    if count % 2:
                        buf.append('"')
                        i += 1
                    continue
                buf.append("\\" * count)
                continue
            if c == '"':
                if in_quotes and i + 1 < n and s[i + 1] == '"':
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
    return argv


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
