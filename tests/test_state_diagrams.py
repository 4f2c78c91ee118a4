"""The committed state diagrams match the transitions in the code (CONVENTIONS §3).

`graph_transitions` walks sets, so its lines come out in a different order from run to run;
both sides are compared after sorting the statements inside each block. To regenerate after
changing a transition (see docs/state-machines/README.md):

    UPDATE_STATE_DIAGRAMS=1 .venv/bin/pytest tests/test_state_diagrams.py
"""

import os
import shutil
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

DIAGRAMS = Path(__file__).resolve().parent.parent / "docs" / "state-machines"
MACHINES = {
    "applications.Application": "application",
    "products.ProductVersion": "product_version",
    "investigations.ChecklistTemplate": "checklist_template",
    "investigations.PolicyValue": "policy_value",
    "documents.Document": "document",
    "documents.DocumentCheck": "document_check",
    "scoring.ModelVersion": "model_version",
    "scoring.RescoringJob": "rescoring_job",
    "scoring.TrainingJob": "training_job",
    "investigations.Investigation": "investigation",
    "approvals.AuthorityMatrix": "authority_matrix",
    "approvals.ApprovalRoute": "approval_route",
    "approvals.ApprovalStep": "approval_step",
    "approvals.ConditionPrecedent": "condition_precedent",
    "investigations.ReVerification": "reverification",
    "oversight.ExportJob": "export_job",
    "loans.LoanContract": "loan_contract",
    "loans.Disbursement": "disbursement",
    "loans.Loan": "loan",
    "loans.LoanChange": "loan_change",
    "monitoring.Classification": "loan_classification",
    "monitoring.Signal": "monitoring_signal",
    "monitoring.Action": "monitoring_action",
    "monitoring.Inspection": "inspection",
    "monitoring.CovenantCheck": "covenant_check",
    "monitoring.Covenant": "covenant",
    "monitoring.CovenantChange": "covenant_change",
    "monitoring.AnnualReview": "annual_review",
    "oversight.ExemptionCase": "exemption_case",
    "scoring.DecisionPolicy": "decision_policy",
    "oversight.DutyRuleSet": "duty_rule_set",
    "documents.DocumentRequirementSet": "document_requirement_set",
    "monitoring.SignalRule": "signal_rule",
    "monitoring.LevelActionTable": "level_action_table",
}


def _is_structure(line: str) -> bool:
    stripped = line.strip()
    return stripped.endswith(("{", "}")) or stripped.startswith("graph [")


def normalise(dot: str) -> str:
    """Nodes, then edges, each sorted, within every block; braces and labels stay put."""
    out, run = [], []

    def flush():
        out.extend(sorted(run, key=lambda line: ("->" in line, line)))
        run.clear()

    for line in dot.strip().splitlines():
        if _is_structure(line):
            flush()
            out.append(line)
        else:
            run.append(line)
    flush()
    return "\n".join(out) + "\n"


def generate(model: str) -> str:
    out = StringIO()
    # English labels whatever language a previous test left active: the file is English.
    with translation.override("en"):
        call_command("graph_transitions", model, stdout=out)
    return normalise(out.getvalue())


def test_generation_is_stable_after_normalising():
    assert generate("applications.Application") == generate("applications.Application")


@pytest.mark.parametrize("model,name", MACHINES.items())
def test_committed_diagram_matches_the_code(model, name):
    path = DIAGRAMS / f"{name}.dot"
    fresh = generate(model)
    if os.environ.get("UPDATE_STATE_DIAGRAMS") == "1":
        path.write_text(fresh, encoding="utf-8")
        if shutil.which("dot"):
            subprocess.run(["dot", "-Tsvg", str(path), "-o", str(path.with_suffix(".svg"))],
                           check=True)
    assert path.exists(), f"{path} is missing; regenerate it (docs/state-machines/README.md)"
    committed = normalise(path.read_text(encoding="utf-8"))
    assert committed == fresh, (
        f"{path.name} is stale: the transitions of {model} changed. Regenerate with "
        f"`UPDATE_STATE_DIAGRAMS=1 .venv/bin/pytest tests/test_state_diagrams.py` and commit "
        f"the .dot and .svg (docs/state-machines/README.md).")
