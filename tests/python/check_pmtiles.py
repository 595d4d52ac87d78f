"""Reads a PMTiles archive with the `pmtiles` package from PyPI (a reader not written here),
from a file or from a URL in HTTP Range requests (as MapLibre's PMTiles protocol reads one), and
prints what it found as one JSON line: the header, the metadata, the directory (every entry,
leaf directories followed) and the tiles. Each tile is written, decompressed, into OUT_DIR as
Z-X-Y.EXT for the test to compare with what the server draws.

    check_pmtiles.py ARCHIVE_PATH_OR_URL OUT_DIR
"""
import gzip
import json
import os
import sys
import urllib.request

from pmtiles.reader import MmapSource, Reader
from pmtiles.tile import Compression, TileType, deserialize_directory, deserialize_header, tileid_to_zxy

requests = []


def url_source(url):
    def get_bytes(offset, length):
        req = urllib.request.Request(url, headers={"Range": f"bytes={offset}-{offset + length - 1}"})
        with urllib.request.urlopen(req) as r:
            data = r.read()
            requests.append(
                {"range": [offset, offset + length - 1], "status": r.status,
                 "content_range": r.headers.get("Content-Range"), "length": len(data)}
            )
            if r.status != 206 or len(data) != length:
                raise SystemExit(f"asked for {length} bytes at {offset}, got {r.status} with {len(data)}")
            return data
    return get_bytes


def entries(get_bytes, header, offset, length, out):
    for e in deserialize_directory(get_bytes(offset, length)):
        if e.run_length == 0:
            entries(get_bytes, header, header["leaf_directory_offset"] + e.offset, e.length, out)
        else:
            out.append(e)


def main():
    source, out_dir = sys.argv[1], sys.argv[2]
    if source.startswith("http://"):
        get_bytes = url_source(source)
    else:
        get_bytes = MmapSource(open(source, "rb"))
    reader = Reader(get_bytes)
    header = deserialize_header(get_bytes(0, 127))
    metadata = reader.metadata()
    found = []
    entries(get_bytes, header, header["root_offset"], header["root_length"], found)
    ext = {TileType.PNG: "png", TileType.WEBP: "webp", TileType.JPEG: "jpg", TileType.MVT: "mvt"}[header["tile_type"]]
    os.makedirs(out_dir, exist_ok=True)
    tiles = []
    for e in found:
        for i in range(e.run_length):
            z, x, y = tileid_to_zxy(e.tile_id + i)
            data = reader.get(z, x, y)
            if header["tile_compression"] == Compression.GZIP:
                data = gzip.decompress(data)
            with open(os.path.join(out_dir, f"{z}-{x}-{y}.{ext}"), "wb") as f:
                f.write(data)
            tiles.append([z, x, y])
    shown = {k: (v.name if hasattr(v, "name") else v) for k, v in header.items()}
    print(json.dumps({
        "header": shown,
        "metadata": metadata,
        "entries": len(found),
        "runs": sum(1 for e in found if e.run_length > 1),
        "distinct_offsets": len({e.offset for e in found}),
        "tiles": tiles,
        "requests": requests,
    }))


main()
