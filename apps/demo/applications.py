"""Demo applications: about one per enterprise, spread over every state of the lifecycle."""

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from apps.accounts.models import User
from apps.applications import services
from apps.applications.states import ApplicationState as S
from apps.demo.clock import StoryClock, real_now, visit_starts
from apps.demo.lifecycle import honest_visit_bound, investigates, walk_to_state
from apps.parties.models import Enterprise
from apps.products.selectors import eligibility_for_enterprise

# The one file walked box-ticked (same text, made-up photo ids, a visit of seconds): the
# example of what the investigation controls catch (issue #18). Every other file is honest.
_BOX_TICKED_FILE_INDEX = 3

# States in the order they are dealt out, so every state appears even with few enterprises;
# disbursed twice, so the loan book has enough borrowers for its mix of behaviours.
_STATES = [S.DRAFT, S.SUBMITTED, S.INVESTIGATING, S.UNDER_REVIEW, S.IN_APPROVAL, S.APPROVED,
           S.CONTRACTED, S.DISBURSED, S.RETURNED, S.REJECTED, S.DISBURSED, S.WITHDRAWN,
           S.EXPIRED]
_BOOKED = (S.CONTRACTED, S.DISBURSED)
_WAITING = (S.UNDER_REVIEW, S.IN_APPROVAL)
# The seed matrix routes an ungraded file to the branch approver up to 1,000,000 of exposure,
# which counts the group's other lending too: the approver's file asks for well under it.
_APPROVER_FILE_CAP = Decimal("600000")
# The first file of the second round waits for the branch committee instead of staying a
# draft (drafts are plenty), so the approver, a committee and the team lead all have work.
_COMMITTEE_FILE_INDEX = len(_STATES)
_COMMITTEE_FILE_FLOOR = Decimal("1200000")

# Between the story's end and the present: the seed's own running time (the clock ticks with
# real time) and the walks after the last visit fit in it.
_STORY_MARGIN = dt.timedelta(minutes=45)
# Beyond the longest visit, each slot leaves room for the seed's running time between visits.
_SLOT_PAD = dt.timedelta(minutes=10)
# Before the first visit: the files drawn up and submitted that morning.
_STORY_LEAD = dt.timedelta(minutes=30)

_PURPOSES = ["Buy raw materials for the next season's orders",
             "Pay suppliers ahead of the holiday peak",
             "Replace two delivery vehicles",
             "Stock up inventory for a new supermarket contract",
             "Bridge receivables from a state-owned buyer"]


def seed_demo_applications(*, seed: int = 20261128) -> int:
    """One application per enterprise that qualifies for some product, walked by the branch's
    demo staff; those qualifying for nothing get a draft, so the refusal can be seen.

    The walk runs under a story clock (issue #18): each honest investigation is a site visit of
    over an hour, each in its own slot of a past working day (`visit_starts`: weekdays, inside
    working hours), so the story starts that many working days back and moves only forward;
    the clock stops before the present."""
    rng = random.Random(seed)
    today = timezone.localdate()
    plan = []
    for index, enterprise in enumerate(Enterprise.objects.select_related("branch").order_by("id")):
        results = eligibility_for_enterprise(enterprise=enterprise, on=today)
        eligible = [r for r in results if r.eligible]
        chosen = (eligible or results)[index % len(eligible or results)].version
        state = _STATES[index % len(_STATES)] if eligible else S.DRAFT
        low, high = chosen.amount_min, min(chosen.amount_max, Decimal("3000000"))
        if eligible and index == _COMMITTEE_FILE_INDEX:
            state, low = S.IN_APPROVAL, max(low, min(_COMMITTEE_FILE_FLOOR, high))
        elif state == S.IN_APPROVAL:
            high = min(high, _APPROVER_FILE_CAP)
        amount = Decimal(rng.randrange(int(low), int(high) + 1, 10000) if high > low else low)
        honest = bool(eligible) and index != _BOX_TICKED_FILE_INDEX
        plan.append((enterprise, chosen, state, amount, bool(eligible), honest))

    # The files waiting for someone (a reviewer, an approver, a committee) are walked last, so
    # they reached their inbox recently rather than at the story's start, days ago.
    order = sorted(range(len(plan)), key=lambda i: plan[i][2] in _WAITING)
    # Every site visit gets its slot, the box-ticked one's (seconds long) too: in working
    # hours like the rest.
    visits = sum(1 for _e, _c, state, _a, eligible, _honest in plan
                 if eligible and investigates(state))
    # The longest visit plus room for the seed's own running time (the clock ticks with real
    # time), so a day's last visit still ends in working hours.
    slot = _visit_slot() + _SLOT_PAD
    # Each visit in a slot of the working day (never at night or at the weekend), the
    # latest slots that end before the margin; the story starts a little before the first.
    starts = visit_starts(visits, slot, before=real_now() - _STORY_MARGIN)
    start = (starts[0] if starts else real_now() - _STORY_MARGIN - slot) - _STORY_LEAD
    created = visit = 0
    with StoryClock(start) as clock:
        for index in order:
            enterprise, chosen, state, amount, eligible, honest = plan[index]
            if eligible and investigates(state):
                clock.advance_to(starts[visit])
                visit += 1
            branch_code = enterprise.branch.code
            manager = User.objects.get(username=f"am.{branch_code}")
            application = services.application_create(
                enterprise=enterprise, product_version=chosen, actor=manager,
                amount_requested=max(amount, chosen.amount_min),
                term_months=chosen.term_max_months,
                purpose=_PURPOSES[index % len(_PURPOSES)],
                repayment_method=chosen.repayment_methods[0],
                collateral_type=chosen.collateral_types[0])
            created += 1
            if eligible:
                # Contracting and drawing are the loan book's (apps.loans.demo): it contracts
                # every approved file through its services, so each disbursed file has a
                # contract and loans.
                walk_to_state(application, S.APPROVED if state in _BOOKED else state,
                              branch_code=branch_code, honest=honest, clock=clock)
    return created


def _visit_slot():
    """The time each honest visit is given on the story clock: the longest one on any
    published checklist template, so no visit runs into the next or into the present."""
    from apps.investigations.models import ChecklistTemplate
    from apps.investigations.states import ChecklistTemplateState

    templates = ChecklistTemplate.objects.filter(state=ChecklistTemplateState.PUBLISHED)
    return max(honest_visit_bound(pk) for pk in templates.values_list("pk", flat=True))
