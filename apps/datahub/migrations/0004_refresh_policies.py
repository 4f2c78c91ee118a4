from django.db import migrations


def seed(apps, schema_editor):
    """`datahub.bureau.person_refresh_days`, `datahub.tax.refresh_days` and
    `datahub.utility.refresh_days` (version 1 where none is on file)."""
    from apps.datahub.policy import seed_datahub_policies

    seed_datahub_policies(apps.get_model("investigations", "PolicyValue"))


class Migration(migrations.Migration):
    dependencies = [("datahub", "0003_person_subjects_bureau_cache_audit")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
