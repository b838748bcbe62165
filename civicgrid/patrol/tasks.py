"""Periodic patrol work, run by the Huey consumer: end the patrols their workers forgot to stop.
A thin wrapper; the sweep reads the database each time, so a late run catches up."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from civicgrid.patrol import services


@db_periodic_task(crontab(minute="*/10"))
def patrol_sweep_every_ten_minutes():
    return services.patrol_sweep()
