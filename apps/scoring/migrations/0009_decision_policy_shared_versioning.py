"""Decision policies join the shared policy-version machine (issue 17): `drafted_by` becomes
the shared `created_by`, and each row gets the state its `published_at` implied. Of the
published rows, each one superseded by a later start retires on that start (as publishing
does from now on), so exactly one is in force."""

import django_fsm
from django.db import migrations, models


def states_from_publication(apps, schema_editor):
    DecisionPolicy = apps.get_model("scoring", "DecisionPolicy")
    published = list(DecisionPolicy.objects.filter(published_at__isnull=False)
                      .order_by("effective_from", "version"))
    for index, current in enumerate(published):
        successor = published[index + 1] if index + 1 < len(published) else None
        fields = {"state": "published"}
        if successor is not None:
            fields = {"state": "retired", "effective_to": successor.effective_from}
        DecisionPolicy.objects.filter(pk=current.pk).update(**fields)


class Migration(migrations.Migration):

    dependencies = [
        ('scoring', '0008_score_failures'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='decisionpolicy',
            options={'ordering': ['-effective_from', '-version'], 'permissions': [('publish_decisionpolicy', 'Can publish decision policies')], 'verbose_name': 'decision policy', 'verbose_name_plural': 'decision policies'},
        ),
        migrations.RenameField(
            model_name='decisionpolicy',
            old_name='drafted_by',
            new_name='created_by',
        ),
        migrations.AddField(
            model_name='decisionpolicy',
            name='effective_to',
            field=models.DateField(blank=True, null=True, verbose_name='effective to'),
        ),
        migrations.AddField(
            model_name='decisionpolicy',
            name='state',
            field=django_fsm.FSMField(choices=[('draft', 'Draft'), ('published', 'Published'), ('retired', 'Retired')], default='draft', max_length=50, protected=True, verbose_name='state'),
        ),
        migrations.AddField(
            model_name='decisionpolicy',
            name='updated_at',
            field=models.DateTimeField(auto_now=True, verbose_name='updated at'),
        ),
        migrations.AlterField(
            model_name='decisionpolicy',
            name='created_at',
            field=models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='created at'),
        ),
        migrations.RunPython(states_from_publication, migrations.RunPython.noop),
    ]
