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
# isort: on

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    if hasattr(signal, "SIGPIPE"):
        # `slacalc ... | head` ends quietly, as csvkit does.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    # SIGTERM is handled like Ctrl-C: the output being written is removed, exit 130.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    app()
