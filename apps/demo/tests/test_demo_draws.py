"""The demo's draws about a file (its narratives, documents, photos and visit) are the same in
every seed: keyed by the enterprise's registration code and the product, never by row ids.
Ids depend on how many rows the process wrote before (a rollback or a flush does not take a
sequence back): keyed by ids, the demo seeded after the rest of the suite in one process made
other files than in a fresh one, and flagged an honest one (test_demo_book)."""

from types import SimpleNamespace

from apps.demo import lifecycle
from apps.demo.narratives import narrative
from apps.documents.demo import demo_seed


def _application(pk: int, *, uscc: str = "91310000TEST00001X", product: str = "working-capital"):
    enterprise = SimpleNamespace(pk=pk + 40, uscc=uscc, name="Test Co.", employees=20,
                                 registration_date=None, operating_address="Unit 3",
                                 get_industry_display=lambda: "Manufacturing")
    return SimpleNamespace(pk=pk, enterprise=enterprise,
                           product_version=SimpleNamespace(product=SimpleNamespace(code=product)))


def _draws(application) -> tuple:
    seed = demo_seed(application)
    return (seed,
            narrative(application.enterprise, "C1_NOTES", chinese=False, seed=seed),
            narrative(application.enterprise, "C1_NOTES", chinese=True, seed=seed),
            lifecycle._rng(application, "visit").random())


def test_a_files_draws_do_not_depend_on_row_ids():
    # The same file seeded in a fresh process and after other tests moved the sequences on.
    assert _draws(_application(3)) == _draws(_application(3 + 537))
    # Another firm, or the same firm's file for another product, draws otherwise.
    assert _draws(_application(3, uscc="91310000TEST00002X")) != _draws(_application(3))
    assert _draws(_application(3, product="equipment")) != _draws(_application(3))
