"""Haversine distance and the narrative similarity measure (pure functions)."""

import pytest

from apps.investigations.controls.geo import haversine_m
from apps.investigations.controls.similarity import jaccard, most_similar, normalise, shingles


@pytest.mark.parametrize("a,b,expected_m,tolerance_m", [
    ((0, 0), (0, 1), 111_195, 5),                        # one degree of longitude at the equator
    ((0, 0), (1, 0), 111_195, 5),                        # one degree of latitude
    ((31.2304, 121.4737), (31.2304, 121.4737), 0, 0.001),
    # Shanghai People's Square → Beijing Tiananmen: ~1,067 km great-circle
    ((31.2304, 121.4737), (39.9042, 116.4074), 1_067_000, 3_000),
    ((31.2304, 121.4737), (31.2754, 121.4737), 5_004, 3),   # 0.045° north ≈ 5 km
    ((89.9, 0), (89.9, 180), 22_239, 5),                 # across the pole
])
def test_haversine_known_distances(a, b, expected_m, tolerance_m):
    assert haversine_m(*a, *b) == pytest.approx(expected_m, abs=tolerance_m)
    assert haversine_m(*b, *a) == pytest.approx(haversine_m(*a, *b))


def test_haversine_accepts_decimals_and_antipodes():
    from decimal import Decimal

    assert haversine_m(Decimal("31.2304"), Decimal("121.4737"), 31.2304, 121.4737) < 0.001
    assert haversine_m(0, 0, 0, 180) == pytest.approx(20_015_115, abs=10)


def test_normalise_ignores_layout_and_case_in_any_script():
    assert normalise("Mr Li, the  SUPPLIER!") == "mrlithesupplier"
    assert normalise("邻居张先生：经营正常。") == "邻居张先生经营正常"


def test_jaccard_of_trigrams():
    a, b = shingles("abcd"), shingles("abce")
    assert a == {"abc", "bcd"} and b == {"abc", "bce"}
    assert jaccard(a, b) == pytest.approx(1 / 3)
    assert jaccard(a, a) == 1.0
    assert jaccard(frozenset(), a) == 0.0


REPORT = ("Visited the shop on Tuesday morning with my colleague. The owner Mr Chen showed us "
          "the stock room; the neighbours (Ms Wu, grocery) say he has traded here ten years.")


def test_light_edits_of_a_copy_still_match_and_different_reports_do_not():
    edited = REPORT.replace("Tuesday", "Thursday").replace("Chen", "Zhao")
    other = ("Premises are a rented workshop of 300 m2; six lathes were running and the order "
             "book shows three regular customers in Ningbo, confirmed by phone.")
    assert jaccard(shingles(REPORT), shingles(edited)) > 0.8
    assert jaccard(shingles(REPORT), shingles(other)) < 0.2
    match = most_similar(edited, [(1, other), (2, REPORT)], threshold=0.8)
    assert match is not None and match[1] == 2 and match[0] > 0.8
    assert most_similar(other, [(2, REPORT)], threshold=0.8) is None


def test_chinese_copy_is_detected():
    text = "走访了隔壁五金店王老板和供应商李经理，均表示企业经营正常，按时付款，无不良传闻。"
    copied = text.replace("王老板", "赵老板")
    assert jaccard(shingles(text), shingles(copied)) > 0.8


def test_a_report_padded_with_much_new_text_is_not_a_copy():
    padded = REPORT + (" Additionally we counted eighteen workers on two shifts, checked the "
                       "electricity meter reading against last month's bill, sampled invoices "
                       "from the sales ledger and photographed the equipment nameplates.")
    assert most_similar(padded, [(1, REPORT)], threshold=0.8) is None
    # …while repeating the report verbatim adds almost no new trigrams: still a copy.
    assert most_similar(REPORT + " " + REPORT, [(1, REPORT)], threshold=0.8)[1] == 1
