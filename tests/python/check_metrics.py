"""Reads a tessera server's /metrics with the Prometheus client's own text parser and prints
every sample as JSON: the parser refuses what Prometheus would refuse, so a malformed line fails
here, and the Rust test compares the samples before and after its requests.

    python check_metrics.py http://127.0.0.1:PORT/metrics
"""

import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def main() -> None:
    with urllib.request.urlopen(sys.argv[1], timeout=30) as answer:
        content_type = answer.headers.get("Content-Type", "")
        text = answer.read().decode("utf-8")
    families = []
    for family in text_string_to_metric_families(text):
        families.append(
            {
                "name": family.name,
                "type": family.type,
                "help": family.documentation,
                "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples],
            }
        )
    print(json.dumps({"content_type": content_type, "families": families}))


if __name__ == "__main__":
    main()
