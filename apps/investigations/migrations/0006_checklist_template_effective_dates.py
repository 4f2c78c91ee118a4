"""Checklist templates join the shared policy-version machine, which keeps the dates a version
is in force. Existing rows keep their states; the dates are filled from what is on file: a
published or retired template was in force from the day it was published, and a retired one
until its successor of the same code was published."""

from django.db import migrations, models


def fill_effective_dates(apps, schema_editor):
    ChecklistTemplate = apps.get_model("investigations", "ChecklistTemplate")
    # Only the date columns are written (never the state): a plain update, row by row.
    rows = list(ChecklistTemplate.objects.exclude(state="draft")
                .order_by("code", "version").values("pk", "code", "state", "published_at",
                                                    "created_at"))
    for index, row in enumerate(rows):
        started = (row["published_at"] or row["created_at"]).date()
        ended = None
        if row["state"] == "retired":
            successor = next((later for later in rows[index + 1:]
                              if later["code"] == row["code"]), None)
            if successor is not None:
                ended = (successor["published_at"] or successor["created_at"]).date()
            else:
                ended = started
        ChecklistTemplate.objects.filter(pk=row["pk"]).update(effective_from=started,
                                                              effective_to=ended)


class Migration(migrations.Migration):

    dependencies = [
        ("investigations", "0005_reverification_method"),
    ]

    operations = [
        migrations.AddField(
            model_name="checklisttemplate",
            name="effective_from",
            field=models.DateField(blank=True, null=True, verbose_name="effective from"),
        ),
        migrations.AddField(
            model_name="checklisttemplate",
            name="effective_to",
            field=models.DateField(blank=True, null=True, verbose_name="effective to"),
        ),
        migrations.RunPython(fill_effective_dates, migrations.RunPython.noop),
    ]
