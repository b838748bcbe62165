"""Periodic routing work, run by the Huey consumer: escalate cases past their tier's deadline.
A thin wrapper; the sweep reads the database each time, so a late run catches up."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from civicgrid.routing import services


@db_periodic_task(crontab(minute="*"))
def routing_sweep_every_minute():
    return services.routing_sweep()
