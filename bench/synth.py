#!/usr/bin/env python3
"""Synthetic benchmark data for tessera and its peers, made the same on every machine.

    python3 bench/synth.py --out DIR [--seed N] [--scale K]

Writes into DIR, in WGS84 (RFC 7946 order, lon/lat), over north-west Syria (35.8-37.5 E,
35.3-36.8 N):

  events.geojson     50,000 points in clusters around 60 made-up towns, with a few per cent
                     spread evenly; properties id, type, date, severity, fatalities, source,
                     verified, and near/title on some
  roads.geojson      2,000 meandering lines of 10-200 vertices; id, class, name, lanes, paved, ref
  districts.geojson  500 simple polygons of 20-2,000 vertices (log-uniform), a tenth with a hole,
                     a twentieth with a second part; id, name, admin_level, population, vertices
  tiles_z8-12.txt    every z/x/y at zooms 8-12 that meets the area
  MANIFEST.txt       each file's size and SHA-256

The files and property names are those the peers' scripts in ../shared/bench/peers read, so one
run measures tessera and the peers on the same bytes. `--scale 2` doubles every count (the
benches use it to show that a tile's cost does not follow the size of the whole data set).
Python's standard library only; `random.Random(seed)` makes the output byte-identical on any
CPython 3.8 or newer.
"""

import argparse
import datetime
import hashlib
import json
import math
import random
from pathlib import Path

WEST, SOUTH, EAST, NORTH = 35.8, 35.3, 37.5, 36.8
KINDS = {"incident": 20, "protest": 8, "clash": 12, "aid_delivery": 10, "displacement": 9,
         "infrastructure_damage": 14, "checkpoint": 7, "shelling": 20}
SOURCES = ["field_report", "news", "ngo", "social_media", "satellite"]
ROADS = {"motorway": 2, "trunk": 4, "primary": 10, "secondary": 20, "tertiary": 34, "track": 30}
LANES = {"motorway": 4, "trunk": 4, "primary": 2}
SYLLABLES = "al ma ra ka sha bi tel jis kh an da ri mu ha sa ba qa za ni ya ash ur".split()
FIRST_DAY = datetime.date(2011, 3, 15).toordinal()
LAST_DAY = datetime.date(2024, 12, 31).toordinal()


def deg(v):
    """Six decimals: about 0.1 m."""
    return round(v, 6)


def inside(lon, lat):
    return [deg(min(max(lon, WEST), EAST)), deg(min(max(lat, SOUTH), NORTH))]


def word(rng):
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def towns(rng):
    out = [dict(name=word(rng), lon=rng.uniform(WEST + 0.05, EAST - 0.05),
                lat=rng.uniform(SOUTH + 0.05, NORTH - 0.05), weight=math.exp(rng.gauss(0, 1)),
                spread=0.01 + rng.uniform(0, 0.05)) for _ in range(60)]
    # Two large towns near where Idlib and western Aleppo are (synthetic, not their outlines).
    out[0].update(name="Cityone", lon=36.63, lat=35.93, weight=12.0, spread=0.05)
    out[1].update(name="Citytwo", lon=37.15, lat=36.20, weight=15.0, spread=0.07)
    return out


def events(rng, places, n):
    weights = [t["weight"] for t in places]
    kinds, kind_weights = list(KINDS), list(KINDS.values())
    for i in range(1, n + 1):
        if rng.random() < 0.08:
            town, lon, lat = None, rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH)
        else:
            town = rng.choices(places, weights)[0]
            lon = rng.gauss(town["lon"], town["spread"])
            lat = rng.gauss(town["lat"], town["spread"] * 0.8)
        kind = rng.choices(kinds, kind_weights)[0]
        severity = rng.choices([1, 2, 3, 4, 5], [30, 30, 20, 12, 8])[0]
        props = {"id": i, "type": kind,
                 "date": datetime.date.fromordinal(FIRST_DAY + int(rng.random() ** 0.7 * (LAST_DAY - FIRST_DAY))).isoformat(),
                 "severity": severity,
                 "fatalities": 0 if severity < 3 or rng.random() < 0.5 else int(rng.expovariate(0.3)),
                 "source": rng.choice(SOURCES), "verified": rng.random() < 0.6}
        if town:
            props["near"] = town["name"]
        if rng.random() < 0.3:
            props["title"] = f"{kind.replace('_', ' ')} near {town['name'] if town else 'open country'} #{i}"
        yield {"type": "Feature", "id": i, "properties": props,
               "geometry": {"type": "Point", "coordinates": inside(lon, lat)}}


def roads(rng, places, n):
    classes, class_weights = list(ROADS), list(ROADS.values())
    for i in range(1, n + 1):
        cls = rng.choices(classes, class_weights)[0]
        start = rng.choice(places)
        if cls in LANES:
            end = rng.choice([t for t in places if t is not start])
            to = (end["lon"], end["lat"])
        else:
            angle, length = rng.uniform(0, 2 * math.pi), rng.uniform(0.01, 0.25)
            to = (start["lon"] + length * math.cos(angle), start["lat"] + length * math.sin(angle))
        x0, y0 = start["lon"] + rng.gauss(0, start["spread"]), start["lat"] + rng.gauss(0, start["spread"])
        dx, dy = to[0] - x0, to[1] - y0
        length = math.hypot(dx, dy) or 1e-9
        vertices, drift, line = rng.randint(10, 200), 0.0, []
        for k in range(vertices):
            f = k / (vertices - 1)
            drift = 0.9 * (drift + rng.gauss(0, 0.15))
            off = drift * 0.05 * length * math.sin(math.pi * f)
            p = inside(x0 + dx * f - dy / length * off, y0 + dy * f + dx / length * off)
            if not line or p != line[-1]:
                line.append(p)
        if len(line) < 2:
            line.append([deg(line[0][0] + 0.001), line[0][1]])
        props = {"id": i, "class": cls, "name": f"{word(rng)} road", "lanes": LANES.get(cls, 1),
                 "paved": cls != "track" or rng.random() < 0.2}
        if rng.random() < 0.1:
            props["ref"] = f"M{rng.randint(1, 60)}"
        yield {"type": "Feature", "id": i, "properties": props,
               "geometry": {"type": "LineString", "coordinates": line}}


def ring(rng, cx, cy, radius, vertices, noise, clockwise=False):
    """A closed ring that never crosses itself: its radius varies with the angle alone (a few
    harmonics plus noise), so each ray from the centre meets it once."""
    waves = [(rng.uniform(0, 0.25) / h ** 0.8, rng.uniform(0, 2 * math.pi)) for h in range(1, 7)]
    stretch = 1 / math.cos(math.radians(cy))
    points = []
    for k in range(vertices):
        t = 2 * math.pi * k / vertices
        r = max(0.35, 1 + sum(a * math.sin(h * t + p) for h, (a, p) in enumerate(waves, 1)) + rng.uniform(-noise, noise))
        p = [deg(cx + radius * r * math.cos(t) * stretch), deg(cy + radius * r * math.sin(t))]
        if not points or p != points[-1]:
            points.append(p)
    if clockwise:
        points.reverse()
    return points + [list(points[0])]


def districts(rng, n):
    for i in range(1, n + 1):
        vertices = round(math.exp(rng.uniform(math.log(20), math.log(2000))))
        radius = math.exp(rng.uniform(math.log(0.01), math.log(0.12)))
        reach = 1.75 * radius  # the ring stays within 1.75 radii of its centre
        cy = rng.uniform(SOUTH + reach, NORTH - reach)
        stretch = 1 / math.cos(math.radians(cy))
        cx = rng.uniform(WEST + reach * stretch, EAST - reach * stretch)
        rings = [ring(rng, cx, cy, radius, vertices, 0.02)]
        roll = rng.random()
        if roll < 0.10:  # a hole well inside the smallest radius the outer ring can have
            rings.append(ring(rng, cx, cy, radius * 0.2, max(8, vertices // 10), 0.01, clockwise=True))
        geometry = {"type": "Polygon", "coordinates": rings}
        if roll > 0.95:  # a second part 2.6 radii away: further than both can reach
            cx2 = cx + 2.6 * radius * stretch
            if cx2 + 0.6 * radius * stretch > EAST:
                cx2 = cx - 2.6 * radius * stretch
            if WEST <= cx2 - 0.6 * radius * stretch:
                part = ring(rng, cx2, cy, radius * 0.3, max(8, vertices // 5), 0.02)
                geometry = {"type": "MultiPolygon", "coordinates": [rings, [part]]}
        props = {"id": i, "name": f"{word(rng)} district", "admin_level": rng.choice([6, 7, 8]),
                 "population": int(math.exp(rng.uniform(math.log(500), math.log(400_000)))),
                 "vertices": vertices}
        yield {"type": "Feature", "id": i, "properties": props, "geometry": geometry}


def tile_list(zooms):
    def tile(lon, lat, z):
        n = 2 ** z
        y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2
        return min(int((lon + 180) / 360 * n), n - 1), min(int(y * n), n - 1)

    for z in zooms:
        (x0, y0), (x1, y1) = tile(WEST, NORTH, z), tile(EAST, SOUTH, z)
        yield from ((z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1))


def write(path, name, features):
    text = json.dumps({"type": "FeatureCollection", "name": name, "features": list(features)},
                      separators=(",", ":"), ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--scale", type=int, default=1, help="multiply every count by this")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    places = towns(random.Random(args.seed))
    # One stream per file, so that a change to one file leaves the others as they were.
    write(args.out / "events.geojson", "events", events(random.Random(args.seed + 1), places, 50_000 * args.scale))
    write(args.out / "roads.geojson", "roads", roads(random.Random(args.seed + 2), places, 2_000 * args.scale))
    write(args.out / "districts.geojson", "districts", districts(random.Random(args.seed + 3), 500 * args.scale))
    (args.out / "tiles_z8-12.txt").write_text("".join(f"{z}/{x}/{y}\n" for z, x, y in tile_list(range(8, 13))))
    lines = []
    for name in ("events.geojson", "roads.geojson", "districts.geojson", "tiles_z8-12.txt"):
        data = (args.out / name).read_bytes()
        lines.append(f"{name}\t{len(data)}\t{hashlib.sha256(data).hexdigest()}")
    lines.append(f"# bench/synth.py seed={args.seed} scale={args.scale}")
    (args.out / "MANIFEST.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
