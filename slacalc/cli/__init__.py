"""The command-line shell: thin commands over the core, one error boundary, one renderer."""

from __future__ import annotations

import signal

from slacalc.cli.common import app

# Importing a command module registers its commands; this order is the order of --help.
# isort: off
from slacalc.cli import report as _report  # noqa: F401
from slacalc.cli import explain as _explain  # noqa: F401
from slacalc.cli import validate as _validate  # noqa: F401
from slacalc.cli import disputes as _disputes  # noqa: F401
from slacalc.cli import tools as _tools  # noqa: F401
from slacalc.cli import statement as _statement  # noqa: F401
from slacalc.cli import importing as _importing  # noqa: F401
# isort: on

__all__ = ["app", "main"]


def _keep_freed_memory() -> None:
    """Ask glibc to keep freed memory for reuse instead of returning every large block to the
    kernel: a large report allocates and frees many arrays of the same sizes, and faulting the
    pages in again each time costs more system time than the computing itself."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    libc.mallopt(m_mmap_threshold, 1 << 30)
    libc.mallopt(m_trim_threshold, 1 << 31)
    libc.mallopt(m_top_pad, 64 << 20)
    # No transparent huge pages for this process: each first touch of a huge page zeroes 2 MB,
    # and on a 5M-row log that took a third of the system time (35.5 s instead of 38.5-42.6 s
    # wall, 8.2 s of system time instead of 13).
    pr_set_thp_disable = 41
    libc.prctl(pr_set_thp_disable, 1, 0, 0, 0)


def main() -> None:
    """Console-script entry point."""
    _keep_freed_memory()
    if hasattr(signal, "SIGPIPE"):
        # `slacalc ... | head` ends quietly, as csvkit does.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    # SIGTERM is handled like Ctrl-C: the output being written is removed, exit 130. Both
    # wait while a temporary output file is being created or removed.
    from slacalc.writing.output import interrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    app()
