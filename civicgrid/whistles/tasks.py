"""Periodic work for whistles, run by the Huey consumer (`civicgrid run_huey`): a thin wrapper
around ``whistles.sweep``, which reads everything from the database each time."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from civicgrid.whistles import sweep


@db_periodic_task(crontab(minute="*"))
def whistle_sweep_every_minute():
    return sweep.whistle_sweep()
