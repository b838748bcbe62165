"""SQLite with write transactions serialised by an OS file lock (see ``base.py``)."""
