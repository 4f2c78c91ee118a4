"""A generator of honest and edited site photos for the reuse control's tests and rates.

An honest photo is a freshly drawn scene (its own seed): a shopfront-like picture of coloured
blocks, shelves, signs and noise. A faked photo is an honest one edited the way someone who
knows the control would: cropped, turned by 3-10 degrees (and cropped back to fill the frame),
colour-shifted, re-saved as JPEG at another quality, and given fresh EXIF.
"""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

WIDTH, HEIGHT = 640, 480


def scene(seed: int) -> Image.Image:
    rnd = random.Random(seed)
    img = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(img)
    top = tuple(rnd.randrange(256) for _ in range(3))
    bottom = tuple(rnd.randrange(256) for _ in range(3))
    ramp = Image.linear_gradient("L").resize((WIDTH, HEIGHT))
    img.paste(Image.composite(Image.new("RGB", img.size, bottom), Image.new("RGB", img.size, top),
                              ramp))
    for _ in range(rnd.randint(12, 30)):
        x0, y0 = rnd.randrange(WIDTH), rnd.randrange(HEIGHT)
        x1, y1 = x0 + rnd.randint(20, 260), y0 + rnd.randint(20, 200)
        colour = tuple(rnd.randrange(256) for _ in range(3))
        shape = rnd.random()
        if shape < 0.5:
            draw.rectangle([x0, y0, x1, y1], fill=colour)
        elif shape < 0.8:
            draw.ellipse([x0, y0, x1, y1], fill=colour)
        else:  # a shelf or a sign: stripes
            for k in range(y0, y1, rnd.randint(6, 18)):
                draw.line([(x0, k), (x1, k)], fill=colour, width=rnd.randint(1, 4))
    import numpy as np

    grain = np.random.default_rng(seed).normal(128, rnd.uniform(8, 24), (HEIGHT, WIDTH))
    noise = Image.fromarray(grain.clip(0, 255).astype(np.uint8), "L").convert("RGB")
    return Image.blend(img, noise, 0.08).filter(ImageFilter.GaussianBlur(0.6))


def _inner_crop(img: Image.Image, angle: float) -> Image.Image:
    """The largest centred rectangle of the frame's aspect free of the corners a turn leaves."""
    import math

    w, h = img.size
    a = math.radians(abs(angle))
    scale = 1 / (math.cos(a) + max(w / h, h / w) * math.sin(a))
    cw, ch = w * scale, h * scale
    return img.crop((round((w - cw) / 2), round((h - ch) / 2),
                     round((w + cw) / 2), round((h + ch) / 2)))


def edit(img: Image.Image, seed: int, *, crop=True, rotate=True, colour=True) -> Image.Image:
    rnd = random.Random(seed)
    out = img
    if rotate:
        angle = rnd.choice((-1, 1)) * rnd.uniform(3, 10)
        out = _inner_crop(out.rotate(angle, resample=Image.Resampling.BICUBIC), angle)
    if crop:
        w, h = out.size
        left, right = rnd.uniform(0, 0.1) * w, rnd.uniform(0, 0.1) * w
        top, bottom = rnd.uniform(0, 0.1) * h, rnd.uniform(0, 0.1) * h
        out = out.crop((round(left), round(top), round(w - right), round(h - bottom)))
    out = out.resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC)
    if colour:
        out = ImageEnhance.Color(out).enhance(rnd.uniform(0.6, 1.4))
        out = ImageEnhance.Brightness(out).enhance(rnd.uniform(0.8, 1.2))
        out = ImageEnhance.Contrast(out).enhance(rnd.uniform(0.8, 1.2))
        gains = [rnd.uniform(0.85, 1.15) for _ in range(3)]
        out = Image.merge("RGB", [band.point(lambda v, g=g: min(255, round(v * g)))
                                  for band, g in zip(out.split(), gains, strict=True)])
    return out


def jpeg(img: Image.Image, *, quality: int, exif_time: str | None = None) -> bytes:
    """JPEG bytes with fresh EXIF (capture time) when given."""
    buffer = io.BytesIO()
    exif = Image.Exif()
    if exif_time:
        exif[0x0132] = exif_time  # DateTime
    img.save(buffer, "JPEG", quality=quality, exif=exif.tobytes())
    return buffer.getvalue()


def reopen(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def honest_and_faked(count: int, seed: int = 0):
    """(original, honest other photo, faked copy of the original) triples, as PIL images that
    went through JPEG at varied qualities (the faked with rewritten EXIF)."""
    rnd = random.Random(seed)
    for i in range(count):
        base = seed * 100_000 + i * 3
        original = reopen(jpeg(scene(base), quality=90))
        honest = reopen(jpeg(scene(base + 1), quality=rnd.randint(70, 95)))
        faked = reopen(jpeg(edit(original, base + 2), quality=rnd.randint(55, 85),
                            exif_time=f"2026:0{rnd.randint(1, 9)}:1{rnd.randint(0, 9)} 10:00:00"))
        yield original, honest, faked


def with_exif(img: Image.Image, *, lat: float, lng: float, taken_at, quality: int = 85) -> bytes:
    """JPEG bytes carrying a (fresh) capture time and GPS position, as a phone would write."""
    from apps.documents.samples import _dms

    exif = Image.Exif()
    stamp = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    exif[0x0132] = stamp
    exif.get_ifd(0x8769)[36867] = stamp
    exif.get_ifd(0x8825).update({1: "N" if lat >= 0 else "S", 2: _dms(lat),
                                 3: "E" if lng >= 0 else "W", 4: _dms(lng)})
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=quality, exif=exif.tobytes())
    return buffer.getvalue()


EDITS = {
    "crop": {"crop": True, "rotate": False, "colour": False},
    "rotate 3-10°": {"crop": False, "rotate": True, "colour": False},
    "colour": {"crop": False, "rotate": False, "colour": True},
    "recompress + new EXIF": {"crop": False, "rotate": False, "colour": False},
    "all of them": {"crop": True, "rotate": True, "colour": True},
}


def edited_cases(count: int, seed: int = 0):
    """(originals, honest photos, {edit: faked copies}) with `count` of each, every image having
    gone through JPEG (faked ones at quality 55-85 with rewritten EXIF)."""
    rnd = random.Random(seed)
    originals, honest, faked = [], [], {name: [] for name in EDITS}
    for i in range(count):
        base = seed * 100_000 + i * 3
        original = reopen(jpeg(scene(base), quality=90))
        originals.append(original)
        honest.append(reopen(jpeg(scene(base + 1), quality=rnd.randint(70, 95))))
        for name, options in EDITS.items():
            faked[name].append(reopen(jpeg(
                edit(original, base + 2, **options), quality=rnd.randint(55, 85),
                exif_time=f"2026:0{rnd.randint(1, 9)}:1{rnd.randint(0, 9)} 10:00:00")))
    return originals, honest, faked
