import pytest

from apps.scoring.scorecard.woe import iv_strength, woe_iv


def test_woe_and_iv_match_the_hand_computed_reference_table():
    # Domain reference §7.2: totals 300 bad / 700 good; bin 1 100 bad 400 good, bin 2 200/300.
    # WOE1 = ln((100/300)/(400/700)) = ln(0.583333) = −0.538997
    # WOE2 = ln((200/300)/(300/700)) = ln(1.555556) = 0.441833
    # IV = (0.333333 − 0.571429)(−0.538997) + (0.666667 − 0.428571)(0.441833) = 0.233531
    woe, parts, iv = woe_iv(goods=[400, 300], bads=[100, 200])
    assert woe == [pytest.approx(-0.538997, abs=1e-6), pytest.approx(0.441833, abs=1e-6)]
    assert iv == pytest.approx(0.233531, abs=1e-6)
    assert sum(parts) == pytest.approx(iv)
    assert iv_strength(iv) == "medium"


def test_an_empty_cell_smooths_every_bin_of_the_characteristic_by_one_half():
    # goods 50/30/20, bads 10/0/5 → 50.5/30.5/20.5 and 10.5/0.5/5.5; totals 101.5 and 16.5.
    # WOE1 = ln((10.5/16.5)/(50.5/101.5)) = 0.246100; WOE2 = ln((0.5/16.5)/(30.5/101.5)) = −2.294175
    # WOE3 = ln((5.5/16.5)/(20.5/101.5)) = 0.501022; IV = 0.719843
    woe, _, iv = woe_iv(goods=[50, 30, 20], bads=[10, 0, 5])
    assert [round(w, 6) for w in woe] == [0.246100, -2.294175, 0.501022]
    assert iv == pytest.approx(0.719843, abs=1e-6)


def test_a_bin_without_rows_has_neutral_woe_and_no_iv_and_no_smoothing_elsewhere():
    woe, parts, iv = woe_iv(goods=[400, 300, 0], bads=[100, 200, 0])
    assert woe[2] == 0 and parts[2] == 0
    assert iv == pytest.approx(0.233531, abs=1e-6)


def test_a_characteristic_without_bads_cannot_be_measured():
    with pytest.raises(ValueError, match="at least one good and one bad"):
        woe_iv(goods=[10, 5], bads=[0, 0])


@pytest.mark.parametrize(("iv", "word"), [(0.01, "useless"), (0.05, "weak"), (0.2, "medium"),
                                          (0.4, "strong"), (0.6, "suspicious")])
def test_siddiqi_iv_bands(iv, word):
    assert iv_strength(iv) == word
