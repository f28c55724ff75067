"""The incident's report (account, cause, people injured, damage) and its closing (time,
reason). Constraints come after the existing rows are brought in line (0005, 0006)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('operators', '0002_operator_bank_details'),
        ('recorder', '0003_ads_events_references_per_statement'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='incident',
            name='incident_reported_has_time',
        ),
        migrations.AddField(
            model_name='incident',
            name='cause',
            field=models.CharField(blank=True, max_length=200, verbose_name='cause'),
        ),
        migrations.AddField(
            model_name='incident',
            name='close_reason',
            field=models.TextField(blank=True, max_length=2000, verbose_name='reason for closing'),
        ),
        migrations.AddField(
            model_name='incident',
            name='closed_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='closed at'),
        ),
        migrations.AddField(
            model_name='incident',
            name='damage',
            field=models.TextField(blank=True, max_length=2000, verbose_name='damage'),
        ),
        migrations.AddField(
            model_name='incident',
            name='injured',
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='people injured'),
        ),
        migrations.AlterField(
            model_name='incident',
            name='report',
            field=models.TextField(blank=True, max_length=5000, verbose_name='what happened'),
        ),
    ]
