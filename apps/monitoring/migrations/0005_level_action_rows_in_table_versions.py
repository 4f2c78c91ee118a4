"""Second step of 0004: the level → action rows now belong to a table version; their own
version and dates go (a separate migration, so the data step's row updates are committed
before the table is altered)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('monitoring', '0004_versioned_signal_and_level_action_rules'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='levelactionrule',
            name='monitoring_level_action_once',
        ),
        migrations.RemoveField(
            model_name='levelactionrule',
            name='effective_from',
        ),
        migrations.RemoveField(
            model_name='levelactionrule',
            name='effective_to',
        ),
        migrations.RemoveField(
            model_name='levelactionrule',
            name='version',
        ),
        migrations.AlterModelOptions(
            name='levelactionrule',
            options={'ordering': ['table', 'level', 'kind'], 'verbose_name': 'level action rule', 'verbose_name_plural': 'level action rules'},
        ),
        migrations.AlterField(
            model_name='levelactionrule',
            name='table',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='rules', to='monitoring.levelactiontable', verbose_name='table version'),
        ),
        migrations.AddConstraint(
            model_name='levelactionrule',
            constraint=models.UniqueConstraint(fields=('table', 'level', 'kind'), name='monitoring_level_action_once'),
        ),
    ]
