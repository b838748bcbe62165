"""Periodic work for cases, run by the Huey consumer (`civicgrid run_huey`).

Thin wrappers: the services read everything from the database each time, so nothing is lost
when the consumer restarts and a late run catches up on whatever came due meanwhile.
"""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from civicgrid.cases import sla


@db_periodic_task(crontab(minute="*"))
def sla_sweep_every_minute():
    return sla.sla_sweep()


@db_periodic_task(crontab(minute="30", hour="8"))
def suspension_reviews_each_morning():
    return sla.suspension_reviews()
