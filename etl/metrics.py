"""The pipeline's counts as StatsD metrics, beside Airflow's own (``QDP_STATSD_HOST``).

Every run already records its per-stage counts in ``etl_run_stage.counts`` (pages fetched,
rejected, retried; items loaded; alerts pending, ...). When a StatsD host is configured, the same
numbers are sent when the run is closed, so a dashboard (Prometheus through statsd-exporter in the
compose stack) can chart them without reading logs or querying the warehouse:

- ``<prefix>.stage.<stage>.<count>``: a counter incremented by the run's count (``crawl.detail_fetched``,
  ``crawl.rejected``, ``crawl.retried``, ``load.items_loaded``, ...);
- ``<prefix>.stage.<stage>.seconds``: a timer (milliseconds) of the stage;
- ``<prefix>.alert.pending`` and ``<prefix>.alert.baseline_unannounced``: gauges, the outbox's level
  after the run (a level, not an amount per run);
- ``<prefix>.run.<status>``: a counter per closed run (success, degraded, failed).

The ``statsd`` client is used rather than Airflow's ``Stats`` facade (``airflow.sdk.observability``):
the facade does work outside a task, but only by importing Airflow (seconds, and it creates
``AIRFLOW_HOME``) and it is configured by Airflow's ``[metrics]`` settings, while ``etl/`` runs
without Airflow (``qdp run``) and is configured by ``QDP_*`` settings alone.
Sending is UDP, fire and forget: metrics never fail or slow down a run.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from .records import StageReport
from .settings import Settings

log = logging.getLogger(__name__)

# Counts that are levels after the run rather than amounts during it.
GAUGES = {"alert": {"pending", "baseline_unannounced"}}


def _name(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", part).strip("_") or "_"


def emit_run(settings: Settings, run_id: str, status: str, reports: Iterable[StageReport]) -> int:
    """Send the run's counts to ``QDP_STATSD_HOST``; returns the number of metrics sent (0 when
    no host is configured). Never raises."""
    if not settings.statsd_host:
        return 0
    try:
        import statsd

        client = statsd.StatsClient(settings.statsd_host, settings.statsd_port,
                                    prefix=_name(settings.statsd_prefix) if settings.statsd_prefix else None)
        n = 0
        with client.pipeline() as pipe:  # a few UDP packets for the whole run, not one per metric
            for report in reports:
                stage = _name(report.stage)
                for key, value in sorted(report.counts.items()):
                    if key in GAUGES.get(report.stage, ()):
                        pipe.gauge(f"{stage}.{_name(key)}", int(value))
                    else:
                        pipe.incr(f"stage.{stage}.{_name(key)}", int(value))
                    n += 1
                if report.seconds:
                    pipe.timing(f"stage.{stage}.seconds", float(report.seconds) * 1000.0)
                    n += 1
            pipe.incr(f"run.{_name(status)}")
            n += 1
        log.info("run %s: %d metric(s) sent to StatsD %s:%s", run_id, n, settings.statsd_host, settings.statsd_port)
        return n
    except Exception:  # a metrics host that cannot be resolved must not fail the run
        log.exception("run %s: metrics not sent to StatsD %s:%s", run_id, settings.statsd_host, settings.statsd_port)
        return 0
