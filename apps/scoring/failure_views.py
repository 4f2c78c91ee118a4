"""The failed-scores page: scores that failed every attempt the policy allows, each in a
sentence, with a Re-run button for credit policy and operations (issue #20).

Reads go through `selectors.score_failure_list` (403 for other roles, scoped to the viewer's
branches); the button is a hint, `services.score_failure_rerun` checks role and state again.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.exceptions import DomainError
from apps.core.fsm import may_attempt
from apps.scoring import selectors, services
from apps.scoring.failure_text import failure_sentence
from apps.scoring.states import ScoreFailureState


@login_required
def score_failure_list(request):
    failures = selectors.score_failure_list(viewer=request.user, states=())
    rows = [{"failure": f, "sentence": failure_sentence(f),
             "can_rerun": may_attempt(f.rerun, actor=request.user)}
            for f in failures.filter(state=ScoreFailureState.FAILED)[:200]]
    retrying = failures.filter(state=ScoreFailureState.RETRYING).count()
    return render(request, "scoring/score_failures.html", {"rows": rows, "retrying": retrying})


@login_required
@require_POST
def score_failure_rerun(request, failure_id: int):
    failure = selectors.score_failure_get(viewer=request.user, failure_id=failure_id)  # 404
    try:
        services.score_failure_rerun(failure_id=failure.pk, actor=request.user)  # 403, 409
        messages.success(request, _("Application %(reference)s is queued to be scored again.")
                         % {"reference": failure.application.reference})
    except DomainError as exc:  # no longer failed: re-run already, or resolved meanwhile
        messages.error(request, str(exc))
    return HttpResponseRedirect(reverse("scoring:score-failures"))
