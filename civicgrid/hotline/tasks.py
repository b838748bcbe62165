"""The hotline import as a Huey task (`civicgrid run_huey`), so an upload page answers at once.

Thin: ``batch_run`` reads everything from the database and the stored file. A batch that fails
is not retried blindly: it shows its error, and "Continue the import" queues it again (it resumes
after its last committed chunk, so nothing is doubled).
"""

from huey.contrib.djhuey import db_task

from civicgrid.hotline import services


@db_task()
def import_batch(batch_id: int) -> str:
    return services.batch_run(batch_id=batch_id).status
