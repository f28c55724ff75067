"""A year's holiday schedule may be corrected: a new revision (with its reason) supersedes
the earlier ones, which stay. The year is unique per revision, a day per revision. Adding
the columns is DDL, so the append-only trigger (0004) does not stand in the way; existing
rows become revision 1 with no reason.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0004_work_calendar_append_only'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='workcalendaryear',
            options={'ordering': ['-year', '-revision'], 'verbose_name': 'holiday schedule', 'verbose_name_plural': 'holiday schedules'},
        ),
        migrations.AddField(
            model_name='workcalendaryear',
            name='reason',
            field=models.TextField(blank=True, help_text='Empty for the first entry.', verbose_name='reason for the correction'),
        ),
        migrations.AddField(
            model_name='workcalendaryear',
            name='revision',
            field=models.PositiveSmallIntegerField(default=1, help_text='1 for the first entry; the newest is in effect.', verbose_name='revision'),
        ),
        migrations.AlterField(
            model_name='workcalendarday',
            name='day',
            field=models.DateField(verbose_name='day'),
        ),
        migrations.AlterField(
            model_name='workcalendaryear',
            name='year',
            field=models.PositiveSmallIntegerField(verbose_name='year'),
        ),
        migrations.AddConstraint(
            model_name='workcalendarday',
            constraint=models.UniqueConstraint(fields=('calendar', 'day'), name='work_calendar_day_once'),
        ),
        migrations.AddConstraint(
            model_name='workcalendaryear',
            constraint=models.UniqueConstraint(fields=('year', 'revision'), name='work_calendar_one_revision_number'),
        ),
        migrations.AddConstraint(
            model_name='workcalendaryear',
            constraint=models.CheckConstraint(condition=models.Q(('revision__gte', 1)), name='work_calendar_revision'),
        ),
        migrations.AddConstraint(
            model_name='workcalendaryear',
            constraint=models.CheckConstraint(condition=models.Q(('revision', 1), models.Q(('reason', ''), _negated=True), _connector='OR'), name='work_calendar_correction_reason'),
        ),
    ]
