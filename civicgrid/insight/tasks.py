"""Periodic command-centre work, run by the Huey consumer. Thin wrappers: each reads the database
afresh, so a late or repeated run catches up and counts nothing twice."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from civicgrid.insight import rollups


@db_periodic_task(crontab(minute="*"))
@lock_task("insight-rollup-refresh")
def rollup_refresh_every_minute():
    return rollups.refresh()


@db_periodic_task(crontab(hour="2", minute="40"))
@lock_task("insight-rollup-refresh")
def rollup_rebuild_nightly():
    # A transaction that committed with old event times and ids (a long import) is caught here.
    return rollups.rebuild()


@db_periodic_task(crontab(minute="*/10"))
@lock_task("insight-warnings")
def warnings_every_ten_minutes():
    from datetime import timedelta

    from django.utils import timezone

    from civicgrid.insight import hotspots, warnings

    today = timezone.localdate()
    # Just after midnight the day before gets its last run: its late reports counted too.
    first = today - timedelta(days=1) if timezone.localtime().hour == 0 else today
    return (
        warnings.spikes_run(day=today, first=first),
        hotspots.hotspots_raise(last=today),
        hotspots.repeats_raise(last=today),
    )


@db_periodic_task(crontab(minute="7"))
@lock_task("insight-opinion")
def opinion_every_hour():
    # This week's words and the watch-list over yesterday and today (insight.opinion).
    from civicgrid.insight import opinion

    return opinion.opinion_refresh()


@db_periodic_task(crontab(minute="23"))
@lock_task("insight-weekly-reminder")
def weekly_reminder_hourly():
    # Acts on the configured weekday from the configured hour on, once a week (insight.reviews_weekly).
    from civicgrid.insight import reviews_weekly

    return reviews_weekly.weekly_remind()


@db_periodic_task(crontab(hour="3", minute="20"))
@lock_task("insight-reviews")
def reviews_daily():
    # After the nightly rebuild: last month's review and last quarter's pack if not made yet
    # (made on the 1st; a day the worker was down is caught up the next).
    from civicgrid.insight import reviews

    return [r.pk for r in reviews.reviews_due()]
