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
