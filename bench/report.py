#!/usr/bin/env python3
"""Reads a bench/run.sh log and prints tessera's figures beside the peers', with ratios.

    python3 bench/report.py LOG [TESSERA_MVT_DIR GEOJSONVT_MVT_DIR]

With the two MVT directories (and the mapbox-vector-tile package, as in /tmp/peers/venv), it
also compares the decoded per-layer feature counts of a few tiles.
"""
import os
import re
import statistics
import sys


def floats(pattern, text):
    return [float(m) for m in re.findall(pattern, text, re.M)]


def med(v):
    return statistics.median(v) if v else None


def fmt(v, unit=""):
    return "-" if v is None else (f"{v:,.1f}{unit}" if v < 1000 else f"{v:,.0f}{unit}")


def ratio(a, b):
    return "-" if a is None or b in (None, 0) else f"{a / b:.1f}x"


def wrk(name, text):
    m = re.search(rf"MEDIAN {re.escape(name)} over \d+ runs: rps=([\d.]+) p50_ms=([\d.]+) p99_ms=([\d.]+)", text)
    return tuple(float(x) for x in m.groups()) if m else (None, None, None)


def main():
    text = open(sys.argv[1]).read()
    t_png = med(floats(r"^RUN\d+ tessera png: .* median ([\d.]+);", text))
    t_mvt = med(floats(r"^RUN\d+ tessera mvt: .* median ([\d.]+);", text))
    mapnik = med(floats(r"^RUN\d+ mapnik tiles/s median: ([\d.]+)", text))
    gvt_cold = med(floats(r"^RUN\d+ geojsonvt cold pass .*?: ([\d.]+) tiles/s", text))
    gvt_warm = med(floats(r"^RUN\d+ geojsonvt warm passes .* median ([\d.]+)", text))
    postgis = med(floats(r"^postgis run \d+: .* = ([\d.]+) tiles/s", text))
    t_cached = wrk("tessera-cached-png", text)
    nginx = wrk("nginx-static", text)
    t_nocache = wrk("tessera-mvt-nocache", text)
    martin = wrk("martin-geojson-nocache", text)
    t_start = floats(r"^STARTUP tessera ([\d.]+) s", text)
    m_start = floats(r"^STARTUP martin ([\d.]+) s", text)
    t_mem = floats(r"^MEMORY tessera after uncached-MVT load: RSS \d+ kB, peak (\d+) kB", text)
    m_mem = floats(r"^MEMORY martin after GeoJSON load: RSS \d+ kB, peak (\d+) kB", text)

    print("| what | tessera | peer | peer figure | tessera / peer | target |")
    print("| --- | ---: | --- | ---: | ---: | --- |")
    print(f"| raster tiles/s, one thread (median of runs) | {fmt(t_png)} | Mapnik 3.1 | {fmt(mapnik)} | {ratio(t_png, mapnik)} | >= 10x |")
    print(f"| MVT tiles/s, one thread | {fmt(t_mvt)} | geojson-vt + vt-pbf, first pass | {fmt(gvt_cold)} | {ratio(t_mvt, gvt_cold)} | >= 5x |")
    print(f"| MVT tiles/s, one thread | {fmt(t_mvt)} | geojson-vt + vt-pbf, warm passes | {fmt(gvt_warm)} | {ratio(t_mvt, gvt_warm)} | (for reference) |")
    print(f"| MVT tiles/s, one thread | {fmt(t_mvt)} | PostGIS ST_AsMVT, one backend | {fmt(postgis)} | {ratio(t_mvt, postgis)} | >= 10x |")
    print(f"| cached PNG, wrk requests/s | {fmt(t_cached[0])} | nginx, the same PNGs from disk | {fmt(nginx[0])} | {ratio(t_cached[0], nginx[0])} | >= 0.9x |")
    print(f"| cached PNG, wrk p99 ms | {fmt(t_cached[2])} | nginx | {fmt(nginx[2])} | | < 2 ms |")
    print(f"| uncached MVT from GeoJSON, wrk requests/s | {fmt(t_nocache[0])} | martin 1.14, GeoJSON | {fmt(martin[0])} | {ratio(t_nocache[0], martin[0])} | >= 100x |")
    print(f"| start-up on the 22 MB data, s | {fmt(t_start[0] if t_start else None)} | martin | {fmt(m_start[0] if m_start else None)} | {ratio(t_start[0] if t_start else None, m_start[0] if m_start else None)} | faster |")
    print(f"| peak memory under MVT load, MB | {fmt(t_mem[0] / 1024 if t_mem else None)} | martin | {fmt(m_mem[0] / 1024 if m_mem else None)} | {ratio(t_mem[0] if t_mem else None, m_mem[0] if m_mem else None)} | less |")

    if len(sys.argv) >= 4:
        compare_counts(sys.argv[2], sys.argv[3], text)


def compare_counts(ours, theirs, text):
    try:
        import mapbox_vector_tile
    except ImportError:
        print("\n(mapbox-vector-tile not importable: feature counts skipped)")
        return
    tiles = ["8/153/101", "9/307/202", "10/615/404", "11/1232/803", "12/2464/1618"]  # middle of each zoom in the list
    names = {"points": "events"}
    print("\nDecoded features per layer (tessera / geojson-vt):\n")
    print("| tile | districts | roads | events |")
    print("| --- | --- | --- | --- |")
    for t in tiles:
        row = []
        counts = []
        for d in (ours, theirs):
            p = os.path.join(d, t + ".mvt")
            if not os.path.exists(p):
                counts.append(None)
                continue
            data = open(p, "rb").read()
            dec = mapbox_vector_tile.decode(data) if data else {}
            counts.append({names.get(k, k): len(v["features"]) for k, v in dec.items()})
        for layer in ("districts", "roads", "events"):
            a = counts[0].get(layer, 0) if counts[0] is not None else "-"
            b = counts[1].get(layer, 0) if counts[1] is not None else "-"
            row.append(f"{a} / {b}")
        print(f"| {t} | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
