"""``python -m slacalc.spark``: the path of the script to give ``spark-submit``."""

from __future__ import annotations

from pathlib import Path

print(Path(__file__).with_name("submit.py"))
