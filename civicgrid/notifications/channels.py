"""Outside channels for messages (SMS, email). Development logs instead of sending.

A channel is a class with a ``name`` and ``send(user, notification) -> (ok, detail)``; settings
name the classes to use (``CIVICGRID_NOTIFY_CHANNELS``). A real SMS gateway plugs in here.
"""

from __future__ import annotations

import logging
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("civicgrid.notifications")


class LogChannel:
    """Writes what would be sent to the log: the development and demo backend."""

    name = "log"

    def send(self, user, notification) -> tuple[bool, str]:
        log.info("message to %s [%s]: %s", user.username, notification.kind, notification.title)
        return True, "logged"


@cache
def _channels() -> tuple:
    return tuple(import_string(path)() for path in settings.NOTIFY_CHANNELS)


def channels() -> tuple:
    return _channels()
