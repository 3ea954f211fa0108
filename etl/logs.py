"""Logging for operators: CLI verbosity, quiet libraries, task preambles, progress heartbeats.

Kept apart from the stages so that the CLI, the DAG tasks and the stages share one policy:
our own loggers say what the run is doing; chatty libraries (Great Expectations registers every
expectation and renderer at INFO) stay at ``QDP_LIBRARY_LOG_LEVEL`` (default WARNING) unless
asked (``qdp -v``).
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .settings import Settings

# Libraries whose INFO output is noise to an operator.
NOISY_LIBRARIES = ("great_expectations", "urllib3", "alembic.runtime.migration", "filelock")
DEFAULT_LIBRARY_LEVEL = "WARNING"
HEARTBEAT_SECONDS = 30.0

log = logging.getLogger("etl")


def library_level() -> int:
    """Level for ``NOISY_LIBRARIES``: ``QDP_LIBRARY_LOG_LEVEL`` (a name such as INFO or DEBUG)."""
    name = (os.environ.get("QDP_LIBRARY_LOG_LEVEL") or DEFAULT_LIBRARY_LEVEL).strip().upper()
    level = logging.getLevelName(name)
    if not isinstance(level, int):
        raise ValueError(f"QDP_LIBRARY_LOG_LEVEL={name!r} is not a log level (DEBUG, INFO, WARNING, ERROR)")
    return level


def quiet_libraries(level: int | None = None) -> None:
    """Set the noisy libraries' loggers to ``level`` (default: ``library_level()``).

    Called by the CLI at start-up and by the stages that import such a library (inside Airflow
    the task process configures logging itself, so the stage has to do it).
    """
    level = library_level() if level is None else level
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(level)
    # Some modules pin their own level at import (GX's data_context.types.base sets INFO):
    # make every already-imported child inherit again.
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and logger.level and name.startswith(
                tuple(f"{lib}." for lib in NOISY_LIBRARIES)):
            logger.setLevel(logging.NOTSET)


def setup_cli(verbose: bool = False) -> None:
    """Logging of the ``qdp`` command: INFO (DEBUG and chatty libraries with ``-v``)."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if verbose:
        os.environ["QDP_LIBRARY_LOG_LEVEL"] = "DEBUG"  # stages re-apply it when they import a library
    quiet_libraries()


def task_preamble(settings: Settings, *, task: str, channel: str | None = None) -> str:
    """The first log line of a task: where it reads from and writes to (secrets masked)."""
    line = (f"{task}: site {settings.site_url}" + (f", channel {channel}" if channel else "")
            + f", data dir {settings.masked('data_dir')}, warehouse {settings.warehouse_url_masked}")
    log.info("%s", line)
    return line


class Heartbeat:
    """Logs a progress line at a steady rhythm (every ``every`` seconds) during a long loop.

    ``beat(done=..., left=..., errors=...)`` is cheap to call on every page; it only logs when
    the interval has passed, so a crawl of any length leaves a readable trace in the task log.
    """

    def __init__(self, what: str, *, every: float | None = None, logger: logging.Logger | None = None,
                 clock=time.monotonic) -> None:
        self.what = what
        self.every = HEARTBEAT_SECONDS if every is None else every
        self.log = logger or log
        self.clock = clock
        self.started = self.last = clock()
        self.lines = 0

    def beat(self, *, done: int, left: int | None, errors: int, force: bool = False) -> bool:
        now = self.clock()
        if not force and now - self.last < self.every:
            return False
        self.last = now
        rate = done / (now - self.started) if now > self.started else 0.0
        self.log.info("%s: %d pages done, %s left, %d errors (%.1f pages/s)", self.what, done,
                      "?" if left is None else left, errors, rate)
        self.lines += 1
        return True
