"""slacalc on Spark: the monthly report of logs too large for one machine, from DataFrames.

Needs ``pip install 'slacalc[spark]'`` (pyspark 4.0 or later) and Java 17. The rows, their
text and the warnings are those of ``slacalc report``: Spark groups the log by customer and
each group runs through slacalc's own reader and report on an executor::

    from pyspark.sql import SparkSession
    from slacalc import Settings, load_policy
    from slacalc.dates.instants import get_zone, parse_instant
    from slacalc.spark import read_csv, report_frame

    spark = SparkSession.builder.getOrCreate()
    tz = get_zone("Asia/Shanghai")
    settings = Settings(policy=load_policy("standard"), tz=tz,
                        as_of=parse_instant("2025-07-01", tz))
    frame = report_frame(read_csv(spark, "hdfs:///sla/incidents/*.csv"),
                         read_csv(spark, "hdfs:///sla/contracts.csv"), settings)
    frame.write.parquet("hdfs:///sla/report-2025-06.parquet")
"""

from __future__ import annotations

from slacalc.spark.frames import incident_columns, read_csv, read_incident_frame
from slacalc.spark.report import SparkReport, contract_book, report_frame, spark_report
from slacalc.spark.session import spark_session

__all__ = [
    "SparkReport",
    "contract_book",
    "incident_columns",
    "read_csv",
    "read_incident_frame",
    "report_frame",
    "spark_report",
    "spark_session",
]
