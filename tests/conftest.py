"""Test settings shared by the suite."""

from __future__ import annotations

import os

from hypothesis import settings

# CI runs the properties on a fixed set of examples, so a landing never depends on luck;
# developers get fresh random examples on every run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
