"""Issue #18: the evidence pack in Chinese, rendered to an image on a machine that has no font at
all, looks like the reference image kept beside this file.

The pack is built by hand (fixed reference, names, dates and events), so the only inputs to the
picture are the renderer, the vendored font and the layout. Poppler rasterises it with an empty
fontconfig, so a glyph that was not embedded would come out as nothing rather than borrowed from
the machine. To accept a deliberate layout change, run with CREDENCE_UPDATE_REFERENCE=1 and look
at the new PNG before committing it.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from django.utils import translation
from PIL import Image

from apps.oversight.pdf import render_pack_pdf

REFERENCE = Path(__file__).resolve().parent / "reference" / "evidence_pack_zh.png"
DPI = 100
# A pixel "differs" when its grey level moves by more than this (anti-aliasing noise stays
# below it); the page may differ in at most this share of its pixels.
GREY_STEP = 64
MAX_DIFFERING_SHARE = 0.0005

def _pack(enterprise_name: str = "杭州青禾食品有限公司"):
    def line(code, label, status, evidence, events, exceptions=()):
        return SimpleNamespace(
            rule=SimpleNamespace(code=code, label=label),
            result=SimpleNamespace(status_label=status, evidence=[(e, "") for e in evidence],
                                   events=events, exceptions=list(exceptions)))

    application = SimpleNamespace(
        reference="CR-2026-000123", enterprise=SimpleNamespace(name=enterprise_name),
        branch=SimpleNamespace(name="城北支行"), get_state_display=lambda: "已放款")
    return SimpleNamespace(
        application=application, rule_set=SimpleNamespace(version=3),
        generated_at=dt.datetime(2026, 11, 30, 9, 30, tzinfo=dt.UTC), head_seq=4812,
        all_fulfilled=False,
        lines=[
            line("D1", "贷前调查双人实地", "已履行", ["实地签到 2 人，重叠 95 分钟"], [101, 102]),
            line("D2", "审查意见完整", "已履行", ["风险审查意见 第 1 轮"], [140]),
            line("D3", "审批权限内审批", "已履行", ["支行审批人 一级授权"], [152, 153]),
            line("D4", "放款前落实条件", "已履行", ["抵押登记证明", "保险单"], [160]),
            line("D5", "首次贷后检查", "未履行", [], [], ["首次检查逾期 12 天未完成"]),
        ],
        exceptions=[("D5", "首次贷后检查逾期 12 天未完成")])


def _render(tmp_path: Path, pack, name: str) -> np.ndarray:
    pdf = tmp_path / f"{name}.pdf"
    with translation.override("zh-hans"):
        render_pack_pdf(pack, pdf)
    # An empty font configuration: poppler may use only what the PDF carries.
    config = tmp_path / "fonts.conf"
    config.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
                      f"<fontconfig><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>")
    env = {**os.environ, "FONTCONFIG_FILE": str(config)}
    subprocess.run(["pdftoppm", "-r", str(DPI), "-f", "1", "-l", "1", "-gray", "-png",
                    str(pdf), str(tmp_path / name)], check=True, env=env,
                   capture_output=True)
    page = next(tmp_path.glob(f"{name}*.png"))
    return np.asarray(Image.open(page).convert("L"), dtype=np.int16)


def _differing_share(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    return float((np.abs(a - b) > GREY_STEP).mean())


def test_chinese_evidence_pack_matches_the_reference_image(tmp_path):
    page = _render(tmp_path, _pack(), "pack")
    if os.environ.get("CREDENCE_UPDATE_REFERENCE"):
        REFERENCE.parent.mkdir(exist_ok=True)
        Image.fromarray(page.astype(np.uint8)).save(REFERENCE, optimize=True)
    reference = np.asarray(Image.open(REFERENCE).convert("L"), dtype=np.int16)
    share = _differing_share(page, reference)
    assert share <= MAX_DIFFERING_SHARE, f"{share:.2%} of the page differs from {REFERENCE.name}"
    # The title line carries ink: the Chinese glyphs were drawn, not left as blanks.
    title_band = page[: page.shape[0] // 8]
    assert (title_band < 128).mean() > 0.002


def test_the_comparison_sees_a_changed_name(tmp_path):
    """The tolerance is not so loose that different Chinese text passes for the reference."""
    reference = np.asarray(Image.open(REFERENCE).convert("L"), dtype=np.int16)
    changed = _render(tmp_path, _pack("宁波东海机械制造有限公司"), "changed")
    assert _differing_share(changed, reference) > MAX_DIFFERING_SHARE
