import apps.parties.money
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('insight', '0004_portfolio_cells'),
    ]

    operations = [
        migrations.CreateModel(
            name='OfficerCell',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('branch_id', models.BigIntegerField(verbose_name='branch')),
                ('officer_id', models.BigIntegerField(verbose_name='responsible officer')),
                ('category', models.CharField(blank=True, max_length=20, null=True, verbose_name='category in force')),
                ('floor', models.CharField(blank=True, max_length=20, null=True, verbose_name='rule floor')),
                ('dpd_npa', models.BooleanField(verbose_name='past the NPL floor in days past due')),
                ('loans', models.IntegerField(verbose_name='loans')),
                ('outstanding', apps.parties.money.MoneyField(decimal_places=2, max_digits=18, verbose_name='outstanding principal')),
            ],
            options={
                'verbose_name': 'officer cell',
                'verbose_name_plural': 'officer cells',
                'default_permissions': (),
            },
        ),
    ]
