"""The Spark session a run uses: the one that exists (a notebook, spark-submit), or a new one."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from slacalc.errors import UsageError

LOG_SETTINGS = Path(__file__).with_name("log4j2.properties")
DEFAULT_MASTER = "local[*]"
LOCAL_DRIVER_MEMORY = "4g"


def spark_session(master: str | None = None) -> tuple[Any, bool]:
    """The session to run on, and whether this call started it.

    An active session is used as it is; under ``spark-submit`` (which started the JVM and set
    the master) the session comes from its settings; otherwise a new one runs on ``master``
    (default: every core of this machine), with quiet logs and this Python on the executors.
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ  # spark-submit launched this process
    builder = SparkSession.builder.appName("slacalc")
    if master or not submitted:
        builder = builder.master(master or DEFAULT_MASTER)
    if not submitted:
        if (master or DEFAULT_MASTER).startswith("local"):
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            # the driver is the executor: room for the shuffle of a large log
            builder = builder.config("spark.driver.memory", LOCAL_DRIVER_MEMORY)
        builder = builder.config("spark.ui.showConsoleProgress", "false").config(
            "spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{LOG_SETTINGS}"
        )
    try:
        return builder.getOrCreate(), True
    except Exception as exc:  # pyspark's own errors: no Java, a master it cannot reach
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(
            f"--engine spark: Spark did not start ({reason}): it needs Java 17 (java on PATH "
            "or JAVA_HOME) and, with --spark-master, a master it can reach"
        ) from None
