"""slacalc's version, in a module of its own: the statement and ``--version`` name it without
importing the package's lazy exports (pyproject.toml's ``version`` is the same)."""

__version__ = "0.2.0"
