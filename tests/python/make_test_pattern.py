"""Writes the test pattern of the image-overlay tests: tests/data/imagery/test-pattern.png and
test-pattern.json beside it.

It is not a map. It is a regular longitude/latitude grid, 0.001 degree a pixel, over
BOUNDS: a translucent blue-grey fill, a graticule every 0.1 degree labelled in degrees, and a
red square mark centred on a pixel corner near each of a few places of the default data (the
corner nearest the place's coordinates in geodata/report-places.geojson, within 0.0005 degree),
each ringed in black and named. The sidecar gives the bounds and the exact coordinates of each
mark's centre, which the tests check against the pixels of the PNG and then against the tiles.

The files are committed; run this again only to change them:

    bash tests/python/run.sh make_test_pattern.py
"""

import json
import pathlib

from PIL import Image, ImageDraw, ImageFont

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "data" / "imagery"
BOUNDS = (36.2, 35.5, 37.3, 36.4)  # west, south, east, north
DEG_PER_PX = 0.001
PLACES = ["idlib", "termanin", "saraqib", "jisr-al-shughur", "maarat-al-numan", "aleppo"]
MARK_HALF = 3  # the mark is 6 x 6 pixels around its corner

FILL = (200, 215, 240, 90)
INK = (20, 45, 110, 255)
GRID = (30, 60, 140, 170)
RED = (220, 20, 30, 255)
RING = (0, 0, 0, 255)


def font(size):
    return ImageFont.load_default(size=size)


def main():
    west, south, east, north = BOUNDS
    width = round((east - west) / DEG_PER_PX)
    height = round((north - south) / DEG_PER_PX)
    img = Image.new("RGBA", (width, height), FILL)
    draw = ImageDraw.Draw(img)

    # Graticule every 0.1 degree (100 pixels), labelled at the top and left edges.
    for i in range(0, width + 1, 100):
        draw.line([(i, 0), (i, height)], fill=GRID, width=1)
        draw.text((i + 4, 40), f"{west + i * DEG_PER_PX:.1f}°E", fill=INK, font=font(16))
    for j in range(0, height + 1, 100):
        draw.line([(0, j), (width, j)], fill=GRID, width=1)
        draw.text((4, j + 4), f"{north - j * DEG_PER_PX:.1f}°N", fill=INK, font=font(16))
    draw.rectangle([0, 0, width - 1, height - 1], outline=INK, width=3)

    banner = "TEST PATTERN - not a map: a 0.001-degree grid with marks at known coordinates"
    draw.rectangle([0, 0, width - 1, 34], fill=(255, 255, 255, 230))
    draw.text((10, 6), banner, fill=INK, font=font(22))

    places = {f["id"]: f for f in json.loads((ROOT / "geodata" / "report-places.geojson").read_text())["features"]}
    marks = []
    for pid in PLACES:
        lon, lat = places[pid]["geometry"]["coordinates"]
        cx, cy = round((lon - west) / DEG_PER_PX), round((north - lat) / DEG_PER_PX)
        draw.ellipse([cx - 14, cy - 14, cx + 14, cy + 14], outline=RING, width=2)
        draw.rectangle([cx - MARK_HALF, cy - MARK_HALF, cx + MARK_HALF - 1, cy + MARK_HALF - 1], fill=RED)
        draw.text((cx + 18, cy - 10), places[pid]["properties"]["name"].split(" (")[0], fill=INK, font=font(16))
        marks.append({
            "near": pid,
            "place": [lon, lat],
            "pixel_corner": [cx, cy],
            "lon": round(west + cx * DEG_PER_PX, 6),
            "lat": round(north - cy * DEG_PER_PX, 6),
        })

    OUT.mkdir(parents=True, exist_ok=True)
    img.save(OUT / "test-pattern.png", optimize=True)
    sidecar = {
        "what": "test pattern for the image-overlay tests (not a map); made by tests/python/make_test_pattern.py",
        "bounds": list(BOUNDS),
        "size": [width, height],
        "mark_half_px": MARK_HALF,
        "mark_rgba": list(RED),
        "marks": marks,
    }
    (OUT / "test-pattern.json").write_text(json.dumps(sidecar, indent=2) + "\n")
    print(json.dumps({"png": str(OUT / "test-pattern.png"), "size": [width, height], "marks": len(marks)}))


if __name__ == "__main__":
    main()
