"""The inbox's sort by amount reads the step's own copy of its route's amount, and every
inbox ordering has an index over waiting steps only (issue #23 (5)).

Existing steps get their route's amount in one UPDATE; the column is added with a zero
default only for that fill and carries no default after.
"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery

import apps.parties.money


def copy_route_amounts(apps, schema_editor):
    step_model = apps.get_model("approvals", "ApprovalStep")
    route_model = apps.get_model("approvals", "ApprovalRoute")
    step_model.objects.update(amount_basis=Subquery(
        route_model.objects.filter(pk=OuterRef("route_id")).values("amount_basis")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ('approvals', '0002_step_quorum_impossible_at'),
    ]

    operations = [
        migrations.AddField(
            model_name='approvalstep',
            name='amount_basis',
            field=apps.parties.money.MoneyField(
                decimal_places=2, default=0, max_digits=18,
                verbose_name='amount measured (group exposure)'),
            preserve_default=False,
        ),
        migrations.RunPython(copy_route_amounts, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name='approvalstep',
            index=models.Index(condition=models.Q(('state', 'waiting')), fields=['opened_at', 'id'],
                               name='approvals_step_waiting_opened'),
        ),
        migrations.AddIndex(
            model_name='approvalstep',
            index=models.Index(condition=models.Q(('state', 'waiting')), fields=['due_at', 'id'],
                               name='approvals_step_waiting_due'),
        ),
        migrations.AddIndex(
            model_name='approvalstep',
            index=models.Index(condition=models.Q(('state', 'waiting')),
                               fields=['amount_basis', 'id'],
                               name='approvals_step_waiting_amount'),
        ),
    ]
