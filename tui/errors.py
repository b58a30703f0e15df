"""What the command line says when it stops: the usage error and every exit status, in one place.

Exit status: 0 done; 1 a verified replay differs from its recording; 2 bad input (a bad option
value, a file that cannot be read or written, not enough memory), always with one line on stderr;
128 + N stopped by signal N (129 SIGHUP, 130 SIGINT, 143 SIGTERM), as a shell reports a process
killed by that signal, with every file complete and closed.
"""

from __future__ import annotations

import sys

EXIT_OK = 0
EXIT_MISMATCH = 1
EXIT_USAGE = 2


def exit_for_signal(signum: int) -> int:
    return 128 + int(signum)


class UsageError(Exception):
    """A bad command line or input file; the message is the one line the user sees."""


def print_error(message: object) -> None:
    """The one line a failure shows, on stderr."""
    print(f"dropout-tui: error: {message}", file=sys.stderr)


def warn(message: object) -> None:
    print(f"dropout-tui: warning: {message}", file=sys.stderr)
