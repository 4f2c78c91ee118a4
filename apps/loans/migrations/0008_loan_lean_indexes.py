"""Fewer indexes on loans (issue #14, bench/bench_loans_feed.py).

Every DPD recomputation and every balance the feed brings updates loan rows, and an indexed
`updated_at` (insight's tail) rules out HOT updates, so each update adds an entry to every
index of the table: 17 of them. Five were redundant and go:

- `branch_id`, `enterprise_id`, `officer_id` alone: the (branch, state), (enterprise, state)
  and (officer, state) indexes lead with them and serve the same lookups and the foreign keys'
  checks;
- the `varchar_pattern_ops` (`_like`) twins of `loan_number` and `state`: nothing queries
  either with LIKE (loan numbers by equality, the list's search case-insensitively, which that
  index cannot serve). Both keep their plain index (loan_number: a named unique constraint).

A 10,000-loan UPDATE of the DPD figures measured ~20% faster without them (load ~12, A/B in
one session). One index build (state) and one unique-constraint build on migrating.
"""

import django.db.models.deletion
import django_fsm
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('applications', '0003_collateral_label_no_collateral'),
        ('loans', '0007_collateral_label_no_collateral'),
        ('org', '0001_initial'),
        ('parties', '0003_party_aliases'),
        ('products', '0004_productversion_day_count'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='loan',
            name='branch',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.branch', verbose_name='branch'),
        ),
        migrations.AlterField(
            model_name='loan',
            name='enterprise',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='loans', to='parties.enterprise', verbose_name='borrower'),
        ),
        migrations.AlterField(
            model_name='loan',
            name='loan_number',
            field=models.CharField(max_length=32, verbose_name='loan number'),
        ),
        migrations.AlterField(
            model_name='loan',
            name='officer',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='loans', to=settings.AUTH_USER_MODEL, verbose_name='responsible officer'),
        ),
        migrations.AlterField(
            model_name='loan',
            name='state',
            field=django_fsm.FSMField(choices=[('pending', 'Pending (booked, value date not reached)'), ('active', 'Active'), ('settled', 'Settled'), ('restructured', 'Restructured'), ('written_off', 'Written off'), ('transferred', 'Transferred')], default='pending', max_length=50, protected=True, verbose_name='state'),
        ),
        migrations.AddIndex(
            model_name='loan',
            index=models.Index(fields=['state'], name='loans_loan_state_idx'),
        ),
        migrations.AddConstraint(
            model_name='loan',
            constraint=models.UniqueConstraint(fields=('loan_number',), name='loans_loan_number_unique'),
        ),
    ]
