"""Decodes tessera's tiles with Pillow (libpng, libwebp and libjpeg-turbo: decoders that share
no code with the Rust encoders that wrote them), the way an image pipeline in Python would.

    check_formats.py BASE PATH...

For each tile path (a .png, .webp or .jpg, with or without @2x, and any query), prints what Pillow saw: the
Content-Type, the format it detected, the size and the mode, and, for each WebP and JPEG tile,
how far its pixels are from the PNG tile of the same address: the largest difference of any
RGBA channel for WebP (lossless: 0), and the mean difference of the RGB channels for JPEG, the
PNG laid on white as JPEG has no alpha. One JSON line; the Rust test judges it.
"""

import io
import json
import sys
import urllib.request

from PIL import Image, ImageChops, ImageStat


def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.headers.get("Content-Type"), r.read()


def main(base, paths):
    seen = {}
    for path in paths:
        content_type, body = fetch(base + path)
        img = Image.open(io.BytesIO(body))
        img.load()
        entry = {"content_type": content_type, "format": img.format, "size": list(img.size), "mode": img.mode,
                 "bytes": len(body)}
        file, _, query = path.partition("?")
        stem, ext = file.rsplit(".", 1)
        if ext != "png":
            _, png_body = fetch(base + stem + ".png" + ("?" + query if query else ""))
            png = Image.open(io.BytesIO(png_body)).convert("RGBA")
            if ext == "webp":
                diff = ImageChops.difference(img.convert("RGBA"), png)
                entry["max_channel_diff_from_png"] = max(hi for _, hi in diff.getextrema())
            else:
                on_white = Image.alpha_composite(Image.new("RGBA", png.size, (255, 255, 255, 255)), png)
                diff = ImageChops.difference(img.convert("RGB"), on_white.convert("RGB"))
                entry["mean_channel_diff_from_png"] = sum(ImageStat.Stat(diff).mean) / 3
        seen[path] = entry
    print(json.dumps(seen))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
