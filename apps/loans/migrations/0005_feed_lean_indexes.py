"""Fewer indexes and foreign-key checks for the core-banking feed to maintain per inserted row
(issue #14, bench/bench_loans_feed.py).

- repayment events, balance snapshots, DPD history: no single-column index on `loan_id`; the
  (loan, value date) / (loan, as of) indexes already serve every lookup by loan (and the
  foreign keys' own checks).
- `source_record_id`: unique through a named constraint instead of `unique=True`, which on
  PostgreSQL also built a `varchar_pattern_ops` (`_like`) index nothing queries.
- Weaker guarantees, on purpose (see the fields' comments in apps/loans/models.py):
  `feed_import_id` of events and snapshots has no index and no database foreign key (the
  import row is written by the same transaction, only the feed writes these rows, imports are
  never deleted and PROTECT still refuses it through the ORM); the DPD history's `loan_id`
  has no database foreign key (derived data, recomputable; ORM deletes still cascade). The
  loan foreign keys of events and snapshots stay: they guard the money.

Depends on the latest loans migration in this branch; re-point on merge. On a large book the
migration rebuilds the two unique indexes and re-validates the events' and snapshots' loan
foreign keys (Django drops and re-adds them when `db_index` changes): one full scan each.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('loans', '0004_instalment_effective_from'),
    ]

    operations = [
        migrations.AlterField(
            model_name='balancesnapshot',
            name='feed_import',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='loans.feedimport', verbose_name='import'),
        ),
        migrations.AlterField(
            model_name='balancesnapshot',
            name='loan',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='balances', to='loans.loan', verbose_name='loan'),
        ),
        migrations.AlterField(
            model_name='balancesnapshot',
            name='source_record_id',
            field=models.CharField(max_length=64, verbose_name='core record id'),
        ),
        migrations.AlterField(
            model_name='loandpd',
            name='loan',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='dpd_history', to='loans.loan', verbose_name='loan'),
        ),
        migrations.AlterField(
            model_name='repaymentevent',
            name='feed_import',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='loans.feedimport', verbose_name='import'),
        ),
        migrations.AlterField(
            model_name='repaymentevent',
            name='loan',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='repayments', to='loans.loan', verbose_name='loan'),
        ),
        migrations.AlterField(
            model_name='repaymentevent',
            name='source_record_id',
            field=models.CharField(max_length=64, verbose_name='core record id'),
        ),
        migrations.AddConstraint(
            model_name='balancesnapshot',
            constraint=models.UniqueConstraint(fields=('source_record_id',), name='loans_balance_record_unique'),
        ),
        migrations.AddConstraint(
            model_name='repaymentevent',
            constraint=models.UniqueConstraint(fields=('source_record_id',), name='loans_repayment_record_unique'),
        ),
    ]
