"""A 64-bit difference hash (dHash) on Pillow, for near-duplicate photo detection.

Why not the `imagehash` library: it pulls in PyWavelets and SciPy for hashes we do not use,
and dHash is a dozen lines on Pillow, which we already trust with every upload. dHash (Neal
Krawetz, "Kind of Like That", 2013) shrinks the image to 9x8 grey pixels and records whether
each pixel is brighter than its right neighbour: robust to re-encoding, resizing and small
colour changes, which is how a reused site photo usually comes back.
"""

from pathlib import Path

HASH_BITS = 64


def dhash(path: Path | str) -> int:
    """The unsigned 64-bit hash of the image at `path` (already safety-checked on upload)."""
    from PIL import Image

    with Image.open(path) as img:
        grey = img.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
        pixels = grey.tobytes()  # one byte per pixel in mode "L"
    value = 0
    for row in range(8):
        for col in range(8):
            left, right = pixels[row * 9 + col], pixels[row * 9 + col + 1]
            value = (value << 1) | (1 if left > right else 0)
    return value


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & 0xFFFFFFFFFFFFFFFF).bit_count()


def to_signed(value: int) -> int:
    """For a signed 64-bit database column."""
    return value - (1 << 64) if value >= (1 << 63) else value


def to_unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


def bands(value: int) -> tuple[int, int, int, int]:
    """The four 16-bit quarters, most significant first (the reuse search's index keys)."""
    value = to_unsigned(value)
    return tuple((value >> shift) & 0xFFFF for shift in (48, 32, 16, 0))


def to_hex(value: int) -> str:
    return f"{to_unsigned(value):016x}"
