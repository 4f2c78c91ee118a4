"""The policy-officer role (issue 17): its group exists from this migration on, so the role can
be granted before the next `sync_role_groups` run gives the group its permissions (that run
follows every migrate and is the single place permissions are decided, apps.accounts.roles)."""

from django.db import migrations


def add_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.get_or_create(name="policy_officer")


def remove_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name="policy_officer").delete()


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(add_group, remove_group),
    ]
