"""Detection and false-flag rates per issue 19 control on the generated cases (no database):
false flags on honest cases ≤ 5% per control, and the report in docs/controls/evidence.md is
the one these rates make (rewritten with WRITE_EVIDENCE_RATES=1)."""

import os
from pathlib import Path

from .evidence_rates import all_rates, report

DOC = Path(__file__).resolve().parents[4] / "docs" / "controls" / "evidence.md"


def test_rates_per_control_and_the_report():
    rates = all_rates()
    for rate in rates:
        if rate.honest:
            assert rate.rate <= 0.05, (rate.control, rate.case, rate.rate)
    detection = {(r.control, r.case): r.rate for r in rates if not r.honest}
    assert detection[("photo reuse (edited)", "faked: all of them")] >= 0.6
    assert detection[("photo reuse (edited)", "faked: recompress + new EXIF")] >= 0.95
    assert detection[("narrative rewording", "faked: Chinese")] >= 0.9
    assert detection[("narrative rewording", "faked: English")] >= 0.9
    assert detection[("officers on site together", "faked visits")] >= 0.95
    text = report(rates)
    if os.environ.get("WRITE_EVIDENCE_RATES") == "1":
        DOC.parent.mkdir(parents=True, exist_ok=True)
        DOC.write_text(text, encoding="utf-8")
    assert DOC.read_text(encoding="utf-8") == text, "docs/controls/evidence.md is stale"
