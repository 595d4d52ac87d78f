#!/usr/bin/env python3
"""Build tessera's default data directory (geodata/) from the curated sources.

Usage:
    python3 geodata/tools/build_layers.py [SOURCES_DIR]

SOURCES_DIR defaults to ../../../shared/geodata-sources relative to this
script (the shared/ directory beside the project's checkout).
Output goes to the directory above this script (geodata/).

What it does (Python 3 standard library only):
  * writes one GeoJSON FeatureCollection per layer (json indent=1,
    ensure_ascii=False; files with over 500 kB of coordinates one feature a line); every feature is copied unchanged ("id",
    properties and geometry), only the FeatureCollection's "name" /
    "description" are adapted for the subsets taken from places.geojson;
  * splits places.geojson by feature id / kind and fails unless every one
    of its features is assigned to exactly one layer or to the explicit
    skip list;
  * asserts that every output coordinate exists in the input file and that
    every output feature is value-identical to an input feature;
  * copies REPORT.txt, observation-points-unlocated.json, SOURCES.md and
    the two source build scripts byte for byte, and events-feb-2020.geojson
    with its citations of "geodata-sources/REPORT.txt" pointed at
    "geodata/REPORT.txt" (checked to be the only change); copies LICENSES.md and appends a section
    on how tessera credits the sources;
  * if geodata/layers.toml exists (and tomllib is available, Python 3.11+),
    checks that every layer file it references was written and that every
    layer containing GeoNames data carries the GeoNames CC BY 4.0 credit;
  * prints a summary with feature counts per layer.

No coordinate is computed, rounded or altered here.
"""

import json
import shutil
import sys
from pathlib import Path

GEONAMES_CREDIT = "Place data © GeoNames (geonames.org), CC BY 4.0"

SCRIPT_DIR = Path(__file__).resolve().parent
OUT_DIR = SCRIPT_DIR.parent
DEFAULT_SRC = (SCRIPT_DIR / ".." / ".." / ".." / "shared" / "geodata-sources").resolve()

# Whole-file layers: output file -> source file (all features, unchanged).
WHOLE_FILE_LAYERS = [
    ("world-countries.geojson", "basemap-world-countries-lowres.geojson"),
    ("countries.geojson", "basemap-countries.geojson"),
    ("borders.geojson", "basemap-borders.geojson"),
    ("governorates.geojson", "basemap-syria-admin1.geojson"),
    ("lakes.geojson", "basemap-lakes.geojson"),
    ("rivers.geojson", "basemap-rivers.geojson"),
    ("towns.geojson", "basemap-populated-places-geonames.geojson"),
    ("cities.geojson", "basemap-populated-places-ne.geojson"),
]

PLACES = "places.geojson"

REPORT_PLACE_IDS = [
    "idlib", "termanin", "darat-izza", "kenana-hospital-darat-izza", "aleppo",
    "saraqib", "maarat-al-numan", "jisr-al-shughur", "atarib", "bab-al-hawa-crossing",
]

# Subsets of places.geojson: (output file, name suffix, description, selector, checks)
# selector: a feature -> bool. Exactly one selector (or the skip list) must match.
PLACES_LAYERS = [
    {
        "file": "de-escalation-zone.geojson",
        "suffix": "de-escalation-zone",
        "description": "Subset of places.geojson: the SCHEMATIC Idlib de-escalation zone "
                       "(feature idlib-de-escalation-zone-schematic; errors of 5-15 km; not the "
                       "February 2020 front line).",
        "select": lambda f: f["id"] == "idlib-de-escalation-zone-schematic",
        "expect_ids": ["idlib-de-escalation-zone-schematic"],
        "geometry_types": {"Polygon", "MultiPolygon"},
    },
    {
        "file": "roads.geojson",
        "suffix": "roads",
        "description": "Subset of places.geojson: the M4 and M5 highways, SCHEMATIC polylines "
                       "through towns on the roads (several km off in places, Latakia-Jisr "
                       "al-Shughur 5-10 km).",
        "select": lambda f: f["id"] in ("m4-highway", "m5-highway"),
        "expect_ids": ["m4-highway", "m5-highway"],
        "geometry_types": {"LineString", "MultiLineString"},
        "kinds": {"road"},
    },
    {
        "file": "report-places.geojson",
        "suffix": "report-places",
        "description": "Subset of places.geojson: the towns, cities, hospital and border "
                       "crossing named in the February 2020 report (Point features of kind "
                       "city / town / hospital / crossing). See each feature's accuracy.",
        "select": lambda f: f["id"] in REPORT_PLACE_IDS,
        "expect_ids": REPORT_PLACE_IDS,
        "geometry_types": {"Point"},
        "kinds": {"city", "town", "hospital", "crossing"},
    },
    {
        "file": "observation-points.geojson",
        "suffix": "observation-points",
        "description": "Subset of places.geojson: the Turkish Astana observation points that "
                       "could be located (kind observation-point; all approximate, ±1-4 km). "
                       "The other posts of the twelve are listed in "
                       "observation-points-unlocated.json.",
        "select": lambda f: f["properties"].get("kind") == "observation-point",
        "expect_ids": None,  # checked against the unlocated list below
        "geometry_types": {"Point"},
        "kinds": {"observation-point"},
    },
    {
        "file": "capitals.geojson",
        "suffix": "capitals",
        "description": "Subset of places.geojson: Ankara and Moscow, where the talks "
                       "mentioned in the report were held (GeoNames centroids).",
        "select": lambda f: f["id"] in ("ankara", "moscow"),
        "expect_ids": ["ankara", "moscow"],
        "geometry_types": {"Point"},
        "kinds": {"capital"},
    },
]

# Features of places.geojson deliberately NOT written as layers, and why.
PLACES_SKIP = {
    "idlib-governorate": "same geometry as the SY-ID feature of governorates.geojson",
    "border-syria-turkey-idlib": "a clipped section of the SYR-TUR line of borders.geojson",
}

COPY_UNCHANGED = [
    "REPORT.txt",
    "observation-points-unlocated.json",
    "SOURCES.md",
]
COPY_TOOLS = ["build_basemap.py", "build_places.py"]

# The events cite the report by its place in the sources ("geodata-sources/REPORT.txt"); in this
# directory it is REPORT.txt beside them. The copy says so, and nothing else in it changes.
EVENTS_FILE = "events-feb-2020.geojson"
REPORT_CITATION = ("geodata-sources/REPORT.txt", "geodata/REPORT.txt")

# Layers that contain GeoNames data (CC BY 4.0) and must carry GEONAMES_CREDIT.
# towns: GeoNames cities500; cities: Arabic names from GeoNames; every subset
# of places.geojson: LICENSES.md says the GeoNames attribution applies to
# places.geojson as a whole.
GEONAMES_LAYERS = ["towns", "cities", "report-places", "observation-points",
                   "capitals", "roads", "de-escalation-zone"]

EXPECTED_PLACES_COUNT = 24       # SOURCES.md
EXPECTED_OBSERVATION_POSTS = 12  # the Astana posts


def fail(msg):
    sys.exit("build_layers.py: ERROR: " + msg)


def check(cond, msg):
    if not cond:
        fail(msg)


def load_json(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def positions(geom):
    """Yield every position (as a tuple of numbers) of a GeoJSON geometry."""
    if geom is None:
        return
    t = geom["type"]
    if t == "GeometryCollection":
        for g in geom["geometries"]:
            yield from positions(g)
        return

    def walk(c):
        if c and isinstance(c[0], (int, float)):
            yield tuple(c)
        else:
            for x in c:
                yield from walk(x)

    yield from walk(geom["coordinates"])


def input_positions(fc):
    s = set()
    for f in fc["features"]:
        s.update(positions(f["geometry"]))
    return s


def verify_layer(out_fc, in_fc, label):
    """Every output coordinate must exist in the input, and every output
    feature must be value-identical to one input feature."""
    in_pos = input_positions(in_fc)
    in_feats = [json.dumps(f, sort_keys=True, ensure_ascii=False) for f in in_fc["features"]]
    in_set = set(in_feats)
    n_pos = 0
    for f in out_fc["features"]:
        for p in positions(f["geometry"]):
            n_pos += 1
            check(p in in_pos, f"{label}: coordinate {list(p)} not found in the input")
        check(json.dumps(f, sort_keys=True, ensure_ascii=False) in in_set,
              f"{label}: feature {f.get('id')!r} differs from its input feature")
    return n_pos


def write_fc(path, fc):
    # Large files are written one feature per line: the 1.5 MB world layer would grow to
    # 4.6 MB pretty-printed, and tessera parses it at every start.
    if sum(len(f["geometry"]["coordinates"].__repr__()) for f in fc["features"]) > 500_000:
        head = {k: v for k, v in fc.items() if k != "features"}
        lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in fc["features"]]
        text = json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n' + ",\n".join(lines) + "\n]}\n"
    else:
        text = json.dumps(fc, indent=1, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    # Read back: must parse and be value-identical to what we meant to write.
    check(load_json(path) == fc, f"{path.name}: read-back differs")


def subset_fc(src_fc, suffix, description, features):
    """A FeatureCollection with the source's top-level members, "name" and
    "description" adapted to say which subset it is."""
    out = {}
    for k, v in src_fc.items():
        if k == "features":
            continue
        if k == "name":
            v = f"{v}: {suffix}"
        elif k == "description":
            v = f"{description} Source collection: {v}"
        out[k] = v
    if "name" not in out:
        out["name"] = suffix
    if "description" not in out:
        out["description"] = description
    out["features"] = features
    return out


def licences_section(layer_titles):
    lines = [
        "",
        "## How tessera credits these sources",
        "",
        "This section was added by `tools/build_layers.py` when the data was copied into tessera's `geodata/` directory; "
        "everything above it is the sources' LICENSES.md, unchanged.",
        "",
        "Each layer in `layers.toml` has an `attribution` (a short credit) and a `license`. tessera serves the "
        "`attribution` of the layers in a tileset in its TileJSON (`attribution`) and shows it in the viewer's "
        "attribution control, so the credit travels with the map.",
        "",
        f"Layers that carry the GeoNames credit \"{GEONAMES_CREDIT}\" (they contain GeoNames data):",
        "",
    ]
    for lid in GEONAMES_LAYERS:
        lines.append(f"- `{lid}`" + (f" - {layer_titles[lid]}" if lid in layer_titles else ""))
    lines += [
        "",
        "Changes made, as CC BY 4.0 asks us to indicate: the GeoNames points were selected by bounding box and "
        "re-shaped to GeoJSON (see above), and `places.geojson` was split into layers by feature id / kind; no "
        "coordinate was changed. The Natural Earth layers carry \"Made with Natural Earth\" (customary, not required). "
        "`events-feb-2020.geojson` is copied but is not a layer in `layers.toml`; its town points come from "
        "`places.geojson`, so anything that displays it should also show the GeoNames credit and keep each "
        "event's `sources` links.",
        "",
    ]
    return "\n".join(lines)


def check_manifest(written_files):
    """Cross-check layers.toml (if present) with what was written."""
    manifest = OUT_DIR / "layers.toml"
    if not manifest.exists():
        print("note: layers.toml not found; manifest checks skipped")
        return {}
    try:
        import tomllib
    except ImportError:
        print("note: tomllib unavailable (Python < 3.11); manifest checks skipped")
        return {}
    with open(manifest, "rb") as fh:
        m = tomllib.load(fh)
    titles = {}
    ids = set()
    for layer in m.get("layers", []):
        lid = layer["id"]
        check(lid not in ids, f"layers.toml: duplicate layer id {lid}")
        ids.add(lid)
        titles[lid] = layer.get("title", "")
        f = OUT_DIR / layer["file"]
        check(f.exists(), f"layers.toml: layer {lid}: file {layer['file']} does not exist")
        check(layer["file"] in written_files, f"layers.toml: layer {lid}: {layer['file']} is not built by this script")
        load_json(f)
        if lid in GEONAMES_LAYERS:
            check(GEONAMES_CREDIT in layer.get("attribution", ""),
                  f"layers.toml: layer {lid} contains GeoNames data but its attribution lacks {GEONAMES_CREDIT!r}")
    for lid in GEONAMES_LAYERS:
        check(lid in ids, f"layers.toml: expected layer {lid}")
    return titles


def main():
    src = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else DEFAULT_SRC
    check(src.is_dir(), f"sources directory {src} not found")
    check(src.resolve() != OUT_DIR.resolve(), "sources and output directory are the same")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "tools").mkdir(exist_ok=True)

    summary = []  # (file, features, positions, source)
    written = set()

    # 1. whole-file layers
    for out_name, src_name in WHOLE_FILE_LAYERS:
        in_fc = load_json(src / src_name)
        check(in_fc.get("type") == "FeatureCollection", f"{src_name}: not a FeatureCollection")
        out_fc = dict(in_fc)  # all members and features, unchanged
        n_pos = verify_layer(out_fc, in_fc, out_name)
        check(out_fc == in_fc, f"{out_name}: differs from {src_name}")
        write_fc(OUT_DIR / out_name, out_fc)
        written.add(out_name)
        summary.append((out_name, len(out_fc["features"]), n_pos, src_name))

    # 2. places.geojson split
    places = load_json(src / PLACES)
    feats = places["features"]
    check(len(feats) == EXPECTED_PLACES_COUNT,
          f"{PLACES}: {len(feats)} features, SOURCES.md says {EXPECTED_PLACES_COUNT}")
    ids = [f.get("id") for f in feats]
    check(all(ids), f"{PLACES}: a feature has no id")
    check(len(set(ids)) == len(ids), f"{PLACES}: duplicate feature ids")
    for f in feats:
        check(f["properties"].get("id") == f["id"], f"{PLACES}: {f['id']}: properties.id differs from id")
    for sid in PLACES_SKIP:
        check(sid in ids, f"skip list names {sid}, which is not in {PLACES}")

    assigned = {i: [] for i in ids}
    for layer in PLACES_LAYERS:
        for f in feats:
            if layer["select"](f):
                assigned[f["id"]].append(layer["file"])
    for i in PLACES_SKIP:
        assigned[i].append("(skip: " + PLACES_SKIP[i] + ")")
    bad = {i: a for i, a in assigned.items() if len(a) != 1}
    check(not bad, f"{PLACES}: features not assigned to exactly one layer or the skip list: {bad}")

    for layer in PLACES_LAYERS:
        sel = [f for f in feats if layer["select"](f)]
        got = [f["id"] for f in sel]
        if layer["expect_ids"] is not None:
            check(sorted(got) == sorted(layer["expect_ids"]),
                  f"{layer['file']}: got {got}, expected {layer['expect_ids']}")
        for f in sel:
            check(f["geometry"]["type"] in layer["geometry_types"],
                  f"{layer['file']}: {f['id']} is a {f['geometry']['type']}")
            if "kinds" in layer:
                check(f["properties"].get("kind") in layer["kinds"],
                      f"{layer['file']}: {f['id']} has kind {f['properties'].get('kind')!r}")
        out_fc = subset_fc(places, layer["suffix"], layer["description"], sel)
        n_pos = verify_layer(out_fc, places, layer["file"])
        write_fc(OUT_DIR / layer["file"], out_fc)
        written.add(layer["file"])
        summary.append((layer["file"], len(sel), n_pos, PLACES))

    # observation points: located + unlocated must be the twelve posts
    unlocated = load_json(src / "observation-points-unlocated.json")["posts"]
    located = [f["id"] for f in feats if f["properties"].get("kind") == "observation-point"]
    un_ids = [p["id"] for p in unlocated]
    check(not set(located) & set(un_ids), "a post is both located and unlocated")
    check(len(located) + len(un_ids) == EXPECTED_OBSERVATION_POSTS,
          f"{len(located)} located + {len(un_ids)} unlocated posts != {EXPECTED_OBSERVATION_POSTS}")

    # the skipped features really are carried by other layers
    gov = load_json(OUT_DIR / "governorates.geojson")
    sy_id = [f for f in gov["features"] if f["properties"].get("iso_3166_2") == "SY-ID"]
    idg = next(f for f in feats if f["id"] == "idlib-governorate")
    check(len(sy_id) == 1 and sy_id[0]["geometry"] == idg["geometry"],
          "idlib-governorate is not identical to SY-ID in governorates.geojson")
    bord = load_json(OUT_DIR / "borders.geojson")
    syr_tur = set()
    for f in bord["features"]:
        if {f["properties"].get("left"), f["properties"].get("right")} == {"SYR", "TUR"}:
            syr_tur.update(positions(f["geometry"]))
    bl = list(positions(next(f for f in feats if f["id"] == "border-syria-turkey-idlib")["geometry"]))
    inner = bl[1:-1]  # the two ends are where the line was clipped at 35.5 E / 37.3 E
    check(all(p in syr_tur for p in inner),
          "border-syria-turkey-idlib is not a section of the SYR-TUR line in borders.geojson")

    # 3. verbatim copies
    for name in COPY_UNCHANGED:
        shutil.copyfile(src / name, OUT_DIR / name)
        check((OUT_DIR / name).read_bytes() == (src / name).read_bytes(), f"{name}: copy differs")
        if name.endswith((".geojson", ".json")):
            load_json(OUT_DIR / name)
    text = (src / EVENTS_FILE).read_text(encoding="utf-8")
    (OUT_DIR / EVENTS_FILE).write_text(text.replace(*REPORT_CITATION), encoding="utf-8")
    before, after = load_json(src / EVENTS_FILE), load_json(OUT_DIR / EVENTS_FILE)
    check(json.loads(json.dumps(before).replace(*REPORT_CITATION)) == after,
          f"{EVENTS_FILE}: the copy differs by more than the report's path")
    check(REPORT_CITATION[0] not in (OUT_DIR / EVENTS_FILE).read_text(encoding="utf-8"),
          f"{EVENTS_FILE}: still cites {REPORT_CITATION[0]}")
    for name in COPY_TOOLS:
        shutil.copyfile(src / "tools" / name, OUT_DIR / "tools" / name)
        check((OUT_DIR / "tools" / name).read_bytes() == (src / "tools" / name).read_bytes(),
              f"tools/{name}: copy differs")

    # 4. manifest checks, then LICENSES.md = sources' file + tessera section
    titles = check_manifest(written)
    lic = (src / "LICENSES.md").read_text(encoding="utf-8")
    if not lic.endswith("\n"):
        lic += "\n"
    (OUT_DIR / "LICENSES.md").write_text(lic + licences_section(titles), encoding="utf-8")
    check((OUT_DIR / "LICENSES.md").read_text(encoding="utf-8").startswith(
        (src / "LICENSES.md").read_text(encoding="utf-8")), "LICENSES.md: source text not kept verbatim")

    # 5. summary
    print(f"sources: {src}")
    print(f"output:  {OUT_DIR}")
    print(f"{'layer file':34} {'features':>8} {'positions':>10}  source")
    for name, n, npos, s in summary:
        print(f"{name:34} {n:8d} {npos:10d}  {s}")
    print(f"places.geojson: {len(feats)} features; skipped (carried by other layers): "
          + ", ".join(f"{k} ({v})" for k, v in PLACES_SKIP.items()))
    print(f"observation points: {len(located)} located, {len(un_ids)} unlocated "
          f"({', '.join(un_ids)})")
    print("copied unchanged: " + ", ".join(COPY_UNCHANGED + ["tools/" + t for t in COPY_TOOLS]))
    print("LICENSES.md: copied + section 'How tessera credits these sources'")
    print("all output coordinates found in the inputs; all features identical to their input features")


if __name__ == "__main__":
    main()
