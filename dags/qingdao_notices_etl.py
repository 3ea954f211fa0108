"""
### Qingdao notices ETL

Watches the channels listed in `etl/crawl/channels.yaml` on the Qingdao municipal government site
(`QDP_SITE_URL`, default www.qingdao.gov.cn), and for every new or revised notice:

1. **crawl** — one mapped task per channel: list pages → detail pages → raw landing zone
   (content-addressed, so re-runs never refetch what is stored); capped by the `qingdao_site` pool;
2. **parse** — pages → notice / section / plan-item / numeric-target records (Simplified Chinese);
3. **validate** — Great Expectations suites from `expectations/`; failing records go to quarantine;
4. **load** — idempotent upsert into the warehouse (`qdp_warehouse` connection or
   `QDP_WAREHOUSE_URL`), keeping every revision; `publish_plan_items` then updates the
   `qingdao_plan_items` asset, only when something new or revised was loaded;
5. **compare** — year-over-year links between each department's plans;
6. **alert** — new notices from the warehouse outbox to the subscribers (`QDP_ALERT_URLS`,
   `QDP_SUBSCRIPTIONS_FILE`), exactly once per destination; failed deliveries retried next run.

Two DAGs share these tasks:

- `qingdao_notices_etl` (daily): a full pass — every list page is re-read and known notices are
  re-checked with conditional requests, so revised notices become new revisions;
- `qingdao_notices_watch` (hourly): incremental — one request per channel when nothing changed,
  so subscribers hear about a new notice within the hour.

7. **finish_run** — records the run's health in `etl_run` (success, degraded, failed) and fails
   when the run failed (site unreachable, no channel read, a stage crashed); **check_health** fails
   when it is degraded (some channels or pages failed; what was read is loaded): a red DAG run
   either way, told apart by which of the two tasks failed and by `etl_run.health_reasons`.

Every task calls one function of the `etl` package; nothing here imports pandas or GX.
Params: `full_crawl` re-reads every list page and re-checks known notices; `backfill_since` (daily
DAG only, a year) turns the run into `qdp backfill --since YEAR`: every list page walked once,
entries listed before the year skipped, what is loaded recorded as alert baseline (a re-run task
resumes from its checkpointed list pages).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

from etl.alert.ops import task_failure_callback

PLAN_ITEMS = Asset(name="qingdao_plan_items", uri="qdp://warehouse/plan_item")
SITE_POOL = "qingdao_site"  # caps concurrent requests to the live host across workers


def _settings(channel: str | None = None):
    from etl.logs import task_preamble
    from etl.settings import Settings

    settings = Settings.from_airflow()
    task_preamble(settings, task=get_current_context()["ti"].task_id, channel=channel)
    return settings


DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": int(os.environ.get("QDP_TASK_RETRIES", "2")),
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    # Per task, not on the DAG: DAG-level on_failure_callback does not fire on some 3.x releases.
    # It only logs and records the failure; finish_run sends the one ops message per run.
    "on_failure_callback": task_failure_callback,
    # A hung task fails (and is retried) instead of holding its slot forever; crawls get longer.
    "execution_timeout": timedelta(minutes=30),
}
CRAWL_TIMEOUT = timedelta(hours=2)  # a full crawl at 1 request/s reads a few thousand pages
DAILY_RUN_TIMEOUT = timedelta(hours=6)
WATCH_RUN_TIMEOUT = timedelta(minutes=50)  # the next hourly run must find this one finished


def _stage(etl_run_id: str, stage: str):
    """Settings for a stage task, after its heartbeat (a silent run is later closed as abandoned)."""
    from etl.pipeline import stage_started

    settings = _settings()
    stage_started(settings, etl_run_id, stage)
    return settings


def _backfill_since(params) -> int | None:
    value = (params or {}).get("backfill_since")
    return int(value) if value not in (None, "") else None


def notices_pipeline():
    """The task graph; decorated below into the daily and the hourly DAG."""

    @task
    def begin_run() -> str:
        from etl.pipeline import begin_run as begin

        ctx = get_current_context()
        return begin(_settings(), dag_id=ctx["dag"].dag_id, dag_run_id=ctx["run_id"])

    @task
    def list_channels() -> list[str]:
        from etl.crawl import load_channels

        return [c.key for c in load_channels(_settings())]

    # Mapped instances are named by channel in the UI (rendered from the context key set below).
    @task(pool=SITE_POOL, max_active_tis_per_dagrun=4, map_index_template="{{ channel_key }}",
          execution_timeout=CRAWL_TIMEOUT)
    def crawl_channel(channel_key: str, params=None) -> dict:
        from etl.pipeline import crawl_stage

        ctx = get_current_context()
        ctx["channel_key"] = channel_key  # type: ignore[typeddict-unknown-key]
        since = _backfill_since(params)
        # A backfill's session is the DAG run: a retried task resumes from its checkpointed list pages.
        session = f"airflow:{ctx['dag'].dag_id}:{ctx['run_id']}" if since is not None else None
        # A backfill never re-checks stored notices (that is what full_crawl adds to a full walk).
        full = bool(params and params["full_crawl"]) and since is None
        return crawl_stage(_settings(channel_key), [channel_key], full=full,
                           walk_all=since is not None, since=since, session=session).to_dict()

    @task
    def parse(etl_run_id: str, crawled: list[dict]) -> dict:
        from etl.pipeline import parse_stage

        return parse_stage(_stage(etl_run_id, "parse"), etl_run_id).to_dict()

    @task
    def validate(etl_run_id: str, parsed: dict) -> dict:
        from etl.pipeline import validate_stage

        return validate_stage(_stage(etl_run_id, "validate"), etl_run_id).to_dict()

    @task
    def load(etl_run_id: str, validated: dict, params=None) -> dict:
        from etl.pipeline import load_stage

        backfill = _backfill_since(params) is not None  # a backfill is the alert baseline
        return load_stage(_stage(etl_run_id, "load"), etl_run_id, backfill=backfill).to_dict()

    @task(outlets=[PLAN_ITEMS])
    def publish_plan_items(loaded: dict) -> None:
        """Holds the asset: succeeds (one asset event) only when the load changed the warehouse; a
        skipped task emits no event, so consumers are not woken for nothing."""
        counts = loaded["counts"]
        if not (counts.get("notices_new") or counts.get("notices_revised")):
            raise AirflowSkipException("nothing new or revised was loaded: no asset event")

    @task
    def compare(etl_run_id: str, loaded: dict) -> dict:
        from etl.pipeline import compare_stage

        return compare_stage(_stage(etl_run_id, "compare"), etl_run_id).to_dict()

    @task
    def alert(etl_run_id: str, loaded: dict) -> dict:
        from etl.pipeline import alert_stage

        return alert_stage(_stage(etl_run_id, "alert"), etl_run_id, loaded).to_dict()

    @task(trigger_rule="all_done", retries=0)
    def finish_run(etl_run_id: str, channels: list[str], crawled: list[dict], parsed: dict,
                   validated: dict, loaded: dict, compared: dict, alerted: dict) -> dict:
        """Record the run's health in etl_run; fail (DAG run red) when the run failed."""
        from etl.pipeline import finish_run as finish

        # A failed upstream task leaves no report: finish_run's health check counts it as failed.
        crawled = [r for r in (crawled or []) if r]
        crashed = {}
        if len(crawled) < len(channels or []):
            crashed["crawl"] = f"{len(channels) - len(crawled)} of {len(channels)} channel task(s) failed"
        stages = [parsed, validated, loaded, compared, alerted]
        health = finish(_settings(), etl_run_id, crawled + [r for r in stages if r], crashed=crashed)
        if health.status == "failed":
            raise RuntimeError(f"run {etl_run_id} {health.summary()}")
        return health.to_dict()

    @task(retries=0)
    def check_health(health: dict) -> None:
        """The operator's warning: fails when the run is degraded (what was good is loaded)."""
        if health["status"] != "success":
            raise RuntimeError("run degraded: " + "; ".join(health["reasons"]))

    # "run_id" is a reserved context key in Airflow, hence etl_run_id for the warehouse's run.
    etl_run_id = begin_run()
    channels = list_channels()
    crawled = crawl_channel.expand(channel_key=channels)
    parsed = parse(etl_run_id, crawled)
    validated = validate(etl_run_id, parsed)
    loaded = load(etl_run_id, validated)
    publish_plan_items(loaded)
    compared = compare(etl_run_id, loaded)
    alerted = alert(etl_run_id, loaded)
    check_health(finish_run(etl_run_id, channels, crawled, parsed, validated, loaded, compared, alerted))


def _full_crawl_param(default: bool) -> dict:
    return {"full_crawl": Param(default, type="boolean",
                                description="Re-read every list page and re-check known notices")}


BACKFILL_PARAM = {"backfill_since": Param(
    None, type=["null", "integer"], minimum=1990,
    description="Backfill (qdp backfill --since YEAR): walk every list page once, skip entries listed before "
                "this year, load what is found as the alert baseline (nothing announced). Empty: a normal run.")}


qingdao_notices_etl = dag(
    dag_id="qingdao_notices_etl", doc_md=__doc__, schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"), catchup=False, max_active_runs=1,
    dagrun_timeout=DAILY_RUN_TIMEOUT, tags=["qingdao", "etl"], params={**_full_crawl_param(True), **BACKFILL_PARAM},
    default_args=DEFAULT_ARGS,
)(notices_pipeline)()

qingdao_notices_watch = dag(
    dag_id="qingdao_notices_watch", doc_md=__doc__, schedule="@hourly",
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"), catchup=False, max_active_runs=1,
    dagrun_timeout=WATCH_RUN_TIMEOUT, tags=["qingdao", "alerts"], params=_full_crawl_param(False),
    default_args=DEFAULT_ARGS,
)(notices_pipeline)()
