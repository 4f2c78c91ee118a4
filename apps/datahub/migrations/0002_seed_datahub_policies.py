from django.db import migrations


def seed(apps, schema_editor):
    from apps.datahub.policy import seed_datahub_policies

    seed_datahub_policies(apps.get_model("investigations", "PolicyValue"))


class Migration(migrations.Migration):
    dependencies = [
        ("datahub", "0001_pulls_consents_records"),
        ("investigations", "0005_reverification_method"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
