"""Writes data/testdata/decode/: small images in the formats and colour
modes that data.Open must decode as PIL's Image.open(f).convert("RGB")
does, each with PIL's RGB pixels next to it (NAME.rgb: H*W*3 bytes, HWC).

Run from the repository root with Debian's python3-pil:
    /usr/bin/python3 tools/gen_decode_fixtures.py
"""
import os
import numpy as np
from PIL import Image

OUT = "data/testdata/decode"
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(13)
H, W = 12, 17


def smooth_rgb():
    y, x = np.mgrid[0:H, 0:W]
    r = (x * 255 // (W - 1))
    g = (y * 255 // (H - 1))
    b = ((x + y) * 7) % 256
    return np.stack([r, g, b], -1).astype(np.uint8)


def save(name, img, **kw):
    p = os.path.join(OUT, name)
    img.save(p, **kw)
    with Image.open(p) as back:
        rgb = np.asarray(back.convert("RGB"))
    assert rgb.shape == (H, W, 3), (name, rgb.shape)
    stem = name.rsplit(".", 1)[0]
    rgb.tofile(os.path.join(OUT, stem + ".rgb"))
    print(name, back.mode if hasattr(back, "mode") else "?", rgb.shape)


rgb = smooth_rgb()
alpha = (rng.integers(0, 256, (H, W))).astype(np.uint8)
save("rgb.jpeg", Image.fromarray(rgb), quality=95)
save("gray.jpeg", Image.fromarray(rgb[..., 0]), quality=95)
save("cmyk.jpeg", Image.fromarray(rgb).convert("CMYK"), quality=95)
save("rgba.png", Image.fromarray(np.dstack([rgb, alpha]), "RGBA"))
save("la.png", Image.fromarray(np.dstack([rgb[..., 1], alpha]), "LA"))
pal = Image.fromarray(rgb).quantize(colors=16)
pal.info["transparency"] = 3
save("palette.png", pal, transparency=3)
rgb16 = (rgb.astype(np.uint16) * 257 + rng.integers(0, 256, rgb.shape)).astype(">u2")
with open(os.path.join(OUT, "rgb16.png"), "wb") as f:
    # PIL cannot write 16-bit RGB PNGs: write the file by hand.
    import struct, zlib
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    raw = b"".join(b"\x00" + rgb16[y].tobytes() for y in range(H))
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 16, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
with Image.open(os.path.join(OUT, "rgb16.png")) as back:
    np.asarray(back.convert("RGB")).tofile(os.path.join(OUT, "rgb16.rgb"))
    print("rgb16.png", back.mode)
save("anim.gif", pal.convert("RGB").quantize(colors=32), save_all=True,
     append_images=[Image.fromarray(255 - rgb).quantize(colors=32)])
save("lossless.webp", Image.fromarray(rgb), lossless=True)
save("alpha.webp", Image.fromarray(np.dstack([rgb, alpha]), "RGBA"), lossless=True)
save("lossy.webp", Image.fromarray(rgb), quality=90)
# ImageNet holds a PNG named .JPEG: recognised by content.
save("png-named.JPEG", Image.fromarray(rgb), format="PNG")
