"""Duty rule sets join the shared policy-version machine (issue 17): each existing set is
published as it was (its creation is its publication; it was written by an administrator or
the seed before four-eyes applied), and every set followed by a later one retires on that
one's start, so the dates say which was in force when, as publishing does from now on."""

import django.db.models.deletion
import django_fsm
from django.conf import settings
from django.db import migrations, models


def publish_existing(apps, schema_editor):
    DutyRuleSet = apps.get_model("oversight", "DutyRuleSet")
    sets = list(DutyRuleSet.objects.order_by("version"))
    for index, rule_set in enumerate(sets):
        successor = sets[index + 1] if index + 1 < len(sets) else None
        fields = {"state": "published", "published_at": rule_set.created_at}
        if successor is not None:
            fields.update(state="retired", effective_to=successor.effective_from)
        DutyRuleSet.objects.filter(pk=rule_set.pk).update(**fields)


class Migration(migrations.Migration):

    dependencies = [
        ('oversight', '0003_exemption_cases'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='dutyruleset',
            options={'ordering': ['-version'], 'permissions': [('publish_dutyruleset', 'Can publish due-diligence duty rules')], 'verbose_name': 'duty rule set', 'verbose_name_plural': 'duty rule sets'},
        ),
        migrations.AddField(
            model_name='dutyruleset',
            name='created_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='drafted by'),
        ),
        migrations.AddField(
            model_name='dutyruleset',
            name='effective_to',
            field=models.DateField(blank=True, null=True, verbose_name='effective to'),
        ),
        migrations.AddField(
            model_name='dutyruleset',
            name='published_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='published at'),
        ),
        migrations.AddField(
            model_name='dutyruleset',
            name='published_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='published by'),
        ),
        migrations.AddField(
            model_name='dutyruleset',
            name='state',
            field=django_fsm.FSMField(choices=[('draft', 'Draft'), ('published', 'Published'), ('retired', 'Retired')], default='draft', max_length=50, protected=True, verbose_name='state'),
        ),
        migrations.RunPython(publish_existing, migrations.RunPython.noop),
    ]
