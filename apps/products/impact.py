"""Impact preview of a draft's entry conditions (issue 17): before a version is published, how
many current customers and past applicants it would admit that the version in force shuts out,
and how many it would shut out that are admitted today.

Both sides come from the threshold report (`apps.products.report.threshold_report`), evaluated
on the same day over the same population, so the preview counts exactly what the report and
the eligibility engine would; it is scoped to the branches the viewer may see (a head-office
policy officer sees the whole bank).
"""

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.products.models import ProductVersion
from apps.products.report import Population, threshold_report


@dataclass(frozen=True)
class PopulationImpact:
    population: str
    enterprises: int
    admitted_before: int
    admitted_after: int
    newly_admitted: int
    newly_excluded: int

    @property
    def sentence(self) -> str:
        """What a policy officer reads: who the change lets in and who it now keeps out."""
        group = (ngettext("Of %(count)s current customer", "Of %(count)s current customers",
                          self.enterprises)
                 if self.population == Population.CUSTOMERS else
                 ngettext("Of %(count)s past applicant", "Of %(count)s past applicants",
                          self.enterprises)) % {"count": self.enterprises}
        return _("%(group)s, this version would admit %(after)s (today: %(before)s): "
                 "%(gained)s newly admitted, %(lost)s newly excluded.") % {
            "group": group, "after": self.admitted_after, "before": self.admitted_before,
            "gained": self.newly_admitted, "lost": self.newly_excluded}


def entry_condition_impact(*, viewer, draft: ProductVersion, in_force: ProductVersion | None,
                           on: dt.date) -> list[PopulationImpact]:
    """For customers and for applicants: admitted under `in_force` vs under `draft` on `on`.
    Without a version in force, nobody is admitted today."""
    impacts = []
    for population in (Population.CUSTOMERS, Population.APPLICANTS):
        after = threshold_report(viewer=viewer, version=draft, on=on, population=population)
        before = (threshold_report(viewer=viewer, version=in_force, on=on,
                                   population=population).admitted_ids
                  if in_force is not None else frozenset())
        impacts.append(PopulationImpact(
            population=population, enterprises=after.enterprises,
            admitted_before=len(before), admitted_after=len(after.admitted_ids),
            newly_admitted=len(after.admitted_ids - before),
            newly_excluded=len(before - after.admitted_ids)))
    return impacts
