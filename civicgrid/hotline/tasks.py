"""The hotline import as a Huey task (`civicgrid run_huey`), so an upload page answers at once.

Thin: ``batch_run`` reads everything from the database and the stored file, and resumes after
the last committed chunk, so a retried or restarted task doubles nothing.
"""

from huey.contrib.djhuey import db_task

from civicgrid.hotline import services


@db_task(retries=1, retry_delay=30)
def import_batch(batch_id: int) -> str:
    return services.batch_run(batch_id=batch_id).status
