"""Each schedule version says from which day it is in force (`effective_from`).

Days past due on a day are counted against the version in force that day, so a restructuring
cures the arrears it capitalises from its own day and leaves the history before it alone.

Back-fill: the first version of a loan is in force from the loan's value date. A later version
(a restructuring) from the business day of its `loan.restructured` audit event (local time,
the service's `timezone.localdate()`); without one, from a month before its first due date
(the restructure service starts the new schedule on its day, first instalment a month later),
never before the loan's value date.
"""

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations, models


def _month_before(day: dt.date) -> dt.date:
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def backfill(apps, schema_editor):
    Loan = apps.get_model("loans", "Loan")
    ScheduleInstalment = apps.get_model("loans", "ScheduleInstalment")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    zone = ZoneInfo(settings.TIME_ZONE)
    db = schema_editor.connection.alias
    loans = ScheduleInstalment.objects.using(db).values_list("loan_id", flat=True).distinct()
    value_dates = dict(Loan.objects.using(db).filter(pk__in=loans)
                       .values_list("pk", "value_date"))
    restructured = {}
    for subject_id, payload, at in AuditEvent.objects.using(db).filter(
            subject_type="loans.loan", action="loan.restructured").order_by("seq") \
            .values_list("subject_id", "payload", "occurred_at"):
        version = (payload or {}).get("schedule_version")
        if version:
            restructured[(int(subject_id), int(version))] = at.astimezone(zone).date()
    versions = {}
    for loan_id, version, first_due in ScheduleInstalment.objects.using(db).values(
            "loan_id", "version").annotate(first_due=models.Min("due_date")).values_list(
            "loan_id", "version", "first_due"):
        versions.setdefault(loan_id, []).append((version, first_due))
    for loan_id, rows in versions.items():
        value_date = value_dates[loan_id]
        for k, (version, first_due) in enumerate(sorted(rows)):
            if k == 0:
                day = value_date
            else:
                day = restructured.get((loan_id, version)) or _month_before(first_due)
            ScheduleInstalment.objects.using(db).filter(loan_id=loan_id, version=version) \
                .update(effective_from=max(day, value_date))


class Migration(migrations.Migration):
    dependencies = [("loans", "0003_dpd_perf_fillfactor"), ("audit", "0003_event_scope_columns")]

    operations = [
        migrations.AddField(model_name="scheduleinstalment", name="effective_from",
                            field=models.DateField(null=True, verbose_name="in force from")),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(model_name="scheduleinstalment", name="effective_from",
                              field=models.DateField(verbose_name="in force from")),
    ]
