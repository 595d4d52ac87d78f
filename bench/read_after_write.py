"""Read-after-write delay across two tessera servers on one database.

Writes an event on server A (PUT, If-Match: *), and from the moment A's answer arrives polls
server B for the event until B serves the ETag A gave; the time that takes is one sample.
Prints the median, p99 and maximum in milliseconds. Standard library only.

usage: python3 bench/read_after_write.py http://A http://B TOKEN SAMPLES
"""

import json
import sys
import time
import urllib.error
import urllib.request

ID = "read-after-write-probe"
TIMEOUT_S = 10.0


def feature(i):
    return {
        "type": "Feature",
        "id": ID,
        "geometry": {"type": "Point", "coordinates": [36.0 + (i % 100) * 0.01, 35.5]},
        "properties": {
            "time": "2024-03-01",
            "kind": "shelling",
            "title": f"read-after-write probe {i}",
            "location_precision": "town",
            "sources": ["bench/read_after_write.py"],
        },
    }


def send(method, url, token, body, if_match=None):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/geo+json"}
    if if_match:
        headers["If-Match"] = if_match
    req = urllib.request.Request(url, method=method, data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(req, timeout=TIMEOUT_S) as reply:
        return reply.headers["ETag"]


def etag(url):
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as reply:
            return reply.headers["ETag"]
    except urllib.error.HTTPError:
        return None


def main():
    a, b, token, samples = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    item_b = f"{b}/collections/events/items/{ID}"
    try:
        send("POST", f"{a}/collections/events/items", token, feature(0))
    except urllib.error.HTTPError as e:
        if e.code != 409:  # left by an earlier round
            raise
    delays = []
    for i in range(1, samples + 1):
        tag = send("PUT", f"{a}/collections/events/items/{ID}", token, feature(i), if_match="*")
        start = time.perf_counter()
        while etag(item_b) != tag:
            if time.perf_counter() - start > TIMEOUT_S:
                sys.exit(f"B did not show A's write {tag} within {TIMEOUT_S} s")
        delays.append((time.perf_counter() - start) * 1000)
        time.sleep(0.02)
    delays.sort()
    p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    print(
        f"RAW samples={len(delays)} p50_ms={delays[len(delays) // 2]:.2f} p99_ms={p99:.2f} max_ms={delays[-1]:.2f}"
    )


if __name__ == "__main__":
    main()
