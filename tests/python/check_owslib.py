"""Reads tessera with OWSLib's OGC API - Features client, the way a Python analyst would.

Prints one JSON line of what OWSLib saw: the API definition's paths, the collection ids, the
ids of the towns in a bbox and of the events on a day, and the queryables of two collections.
The Rust test that runs this compares each with the truth.
"""

import json
import sys

from owslib.ogcapi.features import Features


def main(base):
    api = Features(base)
    definition = api.api()
    collections = api.collections()
    towns = api.collection_items("towns", bbox=[36.5, 35.8, 36.8, 36.0], limit=10000)
    events = api.collection_items("events", datetime_="2020-02-18", limit=10000)
    print(json.dumps({
        "api_paths": sorted(definition["paths"]),
        "collections": sorted(c["id"] for c in collections["collections"]),
        "towns_in_bbox": sorted(f["properties"]["geonameid"] for f in towns["features"]),
        "towns_matched": towns["numberMatched"],
        "events_on_day": sorted(f["id"] for f in events["features"]),
        "queryables_towns": sorted(api.collection_queryables("towns")["properties"]),
        "queryables_events": sorted(api.collection_queryables("events")["properties"]),
    }))


if __name__ == "__main__":
    main(sys.argv[1])
