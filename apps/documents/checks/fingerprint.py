"""Edit-resistant photo fingerprints for reuse detection (issue 19; domain reference §3.4).

A reused site photo rarely comes back byte for byte: it is cropped, straightened by a few
degrees, colour-corrected, re-saved as JPEG and given fresh EXIF. One 64-bit hash of the whole
frame does not survive that, so a photo gets a *fingerprint*: several 64-bit DCT perceptual
hashes (pHash: 32x32 grey, 2-D DCT, the 8x8 lowest frequencies against their median; Zauner,
"Implementation and Benchmarking of Perceptual Image Hash Functions", 2010) of windows of a
colour-normalised grey image:

- colour: the image is reduced to grey levels and histogram-equalised first, so a colour cast,
  brightness or contrast change moves few bits;
- crops: the stored side keeps the full frame and five central windows (the centre and four
  shifted by a tenth of the frame); a crop of the new photo lands close to one of them;
- rotation: the query side straightens the new photo by each angle of a small grid and hashes
  the central window of each (at a few zooms, for crops), so a photo turned by a few degrees
  meets one nearly unturned;
- confirmation: one window pair within the distance is not enough — with 270 window pairs per
  photo pair, chance alone would match an honest photo somewhere in a store of a million. A
  candidate found through the index counts only if many window pairs agree (neighbouring
  angles and zooms of a true copy all land close; measured: edited copies ≥ 15 pairs within
  16 bits, different pictures ≤ 6), so chance has to strike a dozen times at once.

EXIF plays no part (only pixels are hashed), so rewritten metadata changes nothing. Why our
own pHash and not the `imagehash` package: it needs SciPy and PyWavelets for one DCT that is a
3-line matrix product on NumPy (already installed); the hash is the textbook one.

The variant grid is part of the stored format (`VERSION`): changing it means re-fingerprinting,
so it is an algorithm constant. The distance that counts as "the same picture" is policy.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

VERSION = "fp-1"
WORKING = 256      # longest side the windows are cut from (enough for a 32x32 hash)
SIZE = 32          # pHash input side
LOW = 8            # 8x8 lowest DCT frequencies -> 64 bits
CENTRE = 0.6       # side of the central window, as a fraction of the frame
SHIFT = 0.05       # offset of the four shifted windows
ANGLES = (-10.0, -8.0, -6.0, -4.0, -2.0, 0.0, 2.0, 4.0, 6.0, 8.0, 10.0)  # straightening grid
ZOOMS = (1.0, 0.9, 0.8, 0.7)  # query-side: how much of the original frame the new photo may show

# kind -> (centre x, centre y, side) of the window, fractions of the frame
STORED_WINDOWS = {
    "full": (0.5, 0.5, 1.0),
    "c": (0.5, 0.5, CENTRE),
    "cl": (0.5 - SHIFT, 0.5, CENTRE),
    "cr": (0.5 + SHIFT, 0.5, CENTRE),
    "ct": (0.5, 0.5 - SHIFT, CENTRE),
    "cb": (0.5, 0.5 + SHIFT, CENTRE),
}


@lru_cache(maxsize=1)
def _dct_matrix():
    import numpy as np

    n = SIZE
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    matrix = np.cos(math.pi * (2 * i + 1) * k / (2 * n)) * math.sqrt(2 / n)
    matrix[0, :] = math.sqrt(1 / n)
    return matrix


def grey(image):
    """Colour-normalised grey image: luminance, then histogram equalisation."""
    from PIL import Image, ImageOps

    small = image.convert("L")
    small.thumbnail((WORKING, WORKING), Image.Resampling.BILINEAR)
    return ImageOps.equalize(small)


def phash(grey_image, low_side: int = LOW) -> int:
    """Unsigned 64-bit DCT perceptual hash of a grey image (8x8 lowest frequencies)."""
    import numpy as np
    from PIL import Image

    small = grey_image.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    pixels = np.asarray(small, dtype=np.float64)
    matrix = _dct_matrix()
    low = (matrix @ pixels @ matrix.T)[:low_side, :low_side].flatten()
    median = float(np.median(low[1:]))  # the DC term says only how bright the picture is
    value = 0
    for coefficient in low:
        value = (value << 1) | (1 if coefficient > median else 0)
    return value


def _window(grey_image, cx: float, cy: float, side: float):
    width, height = grey_image.size
    half_w, half_h = width * side / 2, height * side / 2
    box = (round(width * cx - half_w), round(height * cy - half_h),
           round(width * cx + half_w), round(height * cy + half_h))
    return grey_image.crop(box)


def _open(source):
    from PIL import Image, ImageOps

    if isinstance(source, (str, Path)):
        with Image.open(source) as img:
            img.load()
            return ImageOps.exif_transpose(img)
    return source


def stored_hashes(source) -> dict[str, int]:
    """The hashes kept for a photo in the fingerprint store, by window kind."""
    g = grey(_open(source))
    return {kind: phash(_window(g, *box)) for kind, box in STORED_WINDOWS.items()}


def query_hashes(source) -> dict[str, int]:
    """The hashes a new photo is looked up by: its full frame, and its central window after
    straightening by each angle of the grid, at each zoom."""
    from PIL import Image

    g = grey(_open(source))
    found = {"full": phash(g)}
    for angle in ANGLES:
        turned = g if angle == 0 else g.rotate(angle, resample=Image.Resampling.BILINEAR)
        for zoom in ZOOMS:
            found[f"r{angle:+.0f}z{zoom}"] = phash(_window(turned, 0.5, 0.5, CENTRE / zoom))
    return found


def agreeing_pairs(query: dict[str, int], stored: dict[str, int], max_distance: int) -> int:
    """How many (query window, stored window) pairs lie within `max_distance` bits: an edited
    copy agrees on many (neighbouring angles and zooms all land close), a different picture
    at most on a few by chance."""
    return sum(1 for q in query.values() for s in stored.values()
               if hamming(q, s) <= max_distance)


def band_keys(value: int) -> list[int]:
    """The four index keys of a 64-bit hash: quarter index << 16 | the quarter's value."""
    value &= 0xFFFFFFFFFFFFFFFF
    return [(band << 16) | ((value >> (48 - 16 * band)) & 0xFFFF) for band in range(4)]


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & 0xFFFFFFFFFFFFFFFF).bit_count()


def closest(query: dict[str, int], stored: dict[str, int]) -> tuple[int, str, str]:
    """(distance, query kind, stored kind) of the closest pair between two fingerprints."""
    return min((hamming(q, s), qk, sk) for qk, q in query.items() for sk, s in stored.items())

