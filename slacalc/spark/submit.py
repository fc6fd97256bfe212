"""The script ``spark-submit`` runs: slacalc's command line, on the session spark-submit set up.

    spark-submit --master yarn "$(python -m slacalc.spark)" report --engine spark \\
        hdfs:///sla/incidents/ --contracts contracts.csv --as-of 2025-07-01 -o report.csv
"""

from __future__ import annotations

if __name__ == "__main__":
    from slacalc.cli import main

    main()
