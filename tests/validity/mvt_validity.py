"""Judges every polygon of a list of vector tiles by OGC rules, with GEOS (shapely) as judge.

Usage: mvt_validity.py BASE_URL TILES QUERY

Fetches BASE_URL/tiles/{z}/{x}/{y}.mvt{QUERY} for each `z/x/y` line of the file TILES,
decodes each with mapbox-vector-tile (y down, as on the wire), and checks every polygon
feature: shapely's `is_valid` (simple rings, no self-touching ring, holes inside their
exterior, a connected interior, parts of a multipolygon meeting at points only), and MVT 2.1
section 4.3.4.4's winding (the first ring has positive area with y down). Prints one JSON
object: tiles fetched, polygons and invalid polygons per zoom, GEOS's reasons, and the first
few invalid polygons with their tile.
"""

import collections
import concurrent.futures
import json
import sys
import urllib.request

import mapbox_vector_tile
import shapely
from shapely.geometry import shape
from shapely.validation import explain_validity


def fetch(base, query, tile):
    with urllib.request.urlopen(f"{base}/tiles/{tile}.mvt{query}", timeout=60) as reply:
        return tile, reply.status, reply.read()


def first_ring_area2(geometry):
    """Twice the signed area (y down) of the first ring as it came off the wire."""
    coords = geometry["coordinates"]
    ring = coords[0] if geometry["type"] == "Polygon" else coords[0][0]
    return sum(ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1] for i in range(len(ring) - 1))


def main():
    base, tiles_file, query = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(tiles_file) as f:
        tiles = [line.strip() for line in f if line.strip()]
    polygons, where = [], []
    per_zoom = collections.defaultdict(lambda: [0, 0])
    wound_wrong = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        for tile, status, body in pool.map(lambda t: fetch(base, query, t), tiles):
            if status == 204:
                continue
            layers = mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})
            for name, layer in layers.items():
                for feature in layer["features"]:
                    g = feature["geometry"]
                    if g["type"] not in ("Polygon", "MultiPolygon"):
                        continue
                    if first_ring_area2(g) <= 0:
                        wound_wrong.append(f"{name} {feature.get('id')} in {tile}")
                    polygons.append(shape(g))
                    where.append((tile, name, feature.get("id"), feature["properties"].get("name")))
    valid = shapely.is_valid(polygons) if polygons else []
    reasons = collections.Counter()
    examples = []
    for ok, g, (tile, layer, fid, name) in zip(valid, polygons, where):
        z = tile.split("/")[0]
        per_zoom[z][0] += 1
        if ok:
            continue
        per_zoom[z][1] += 1
        why = explain_validity(g)
        reasons[why.split("[")[0]] += 1
        if len(examples) < 10:
            examples.append(f"{layer} {fid} ({name}) in {tile}: {why}")
    print(
        json.dumps(
            {
                "tiles": len(tiles),
                "polygons": len(polygons),
                "invalid": int(sum(1 for ok in valid if not ok)),
                "per_zoom": {z: {"polygons": n, "invalid": bad} for z, (n, bad) in sorted(per_zoom.items(), key=lambda i: int(i[0]))},
                "reasons": dict(reasons),
                "examples": examples,
                "wound_wrong": wound_wrong[:10],
                "wound_wrong_count": len(wound_wrong),
            }
        )
    )


if __name__ == "__main__":
    main()
