"""`qdp backfill --since YEAR` as a real process: a backfill killed with SIGKILL and started again
continues where it stopped (no stored page fetched again, finished channels not walked again) and
leaves the warehouse an uninterrupted backfill leaves; what it loads is alert baseline."""

from __future__ import annotations

import json
import subprocess
from collections import Counter

import pytest
import sqlalchemy as sa

from etl import warehouse
from etl.crawl.landing import LandingZone
from etl.pipeline import run_backfill
from etl.settings import Settings
from tests.fixtures.warehouse import content_of
from tests.integration.test_run_crash import QDP, _diff, _env, _run_until

pytestmark = pytest.mark.integration


def _stored_fetches(settings: Settings) -> Counter:
    """Detail fetches that stored a body, per notice, over every run into this landing zone."""
    zone = LandingZone(settings.landing_dir)
    try:
        return Counter((r["host"], r["notice_id"]) for r in zone.rows() if r.get("outcome") == "stored"
                       and r.get("kind", "page") == "page")
    finally:
        zone.close()


@pytest.fixture(scope="module")
def clean_backfill(sample_site, tmp_path_factory):
    data = tmp_path_factory.mktemp("clean-backfill")
    settings = Settings.from_env(_env(sample_site.url, data))
    result = run_backfill(settings, 2019)
    assert result.health.status == "success", result.health.reasons
    crawled = next(r for r in result if r.stage == "crawl")
    engine = warehouse.get_engine(settings.warehouse_url)
    dump = content_of(engine)
    with engine.connect() as conn:
        baseline = conn.execute(sa.text("SELECT COUNT(*), SUM(CASE WHEN is_baseline THEN 1 ELSE 0 END) "
                                        "FROM alert_outbox")).one()
    warehouse.dispose_engine(settings.warehouse_url)
    return dump, crawled.counts, baseline


def test_backfill_loads_everything_as_baseline(clean_backfill):
    dump, counts, (queued, baseline) = clean_backfill
    assert counts["channels_ok"] > 0 and counts["channels_failed"] == counts["channels_incomplete"] == 0
    assert queued == baseline == len({(r[0], r[1]) for r in dump["notice"]})  # nothing to announce


def test_a_killed_backfill_resumes_and_equals_an_uninterrupted_one(sample_site, clean_backfill, tmp_path):
    dump, clean_counts, _ = clean_backfill
    env = _env(sample_site.url, tmp_path / "data")
    # Killed once the first channel has been walked.
    _run_until(env, "etl.crawl.crawler: crawl ", argv=("backfill", "--since", "2019", "--quiet"))
    settings = Settings.from_env(env)
    landed_before = _stored_fetches(settings)
    assert landed_before  # the kill came after something was stored

    again = subprocess.run([QDP, "backfill", "--since", "2019", "--quiet", "--json"], env=env, capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    reports = [json.loads(line) for line in again.stdout.splitlines() if line.startswith("{")]
    crawl = next(r for r in reports if r.get("stage") == "crawl")
    assert crawl["details"]["resumed"] is True
    # The finished channel is not walked again; no stored page is fetched again.
    assert crawl["counts"]["list_pages"] < clean_counts["list_pages"]
    fetched = _stored_fetches(settings)
    assert max(fetched.values()) == 1 and set(fetched) >= set(landed_before)
    engine = warehouse.get_engine(settings.warehouse_url)
    assert _diff(content_of(engine), dump) == {}
    with engine.connect() as conn:
        statuses = dict(conn.execute(sa.text("SELECT run_id, status FROM etl_run")).all())
        not_baseline = conn.execute(sa.text("SELECT COUNT(*) FROM alert_outbox WHERE NOT is_baseline")).scalar_one()
    assert sorted(statuses.values()) == ["abandoned", "success"] and not_baseline == 0
    # Finished: the session is over, the next backfill is a new one.
    assert not (LandingZone(settings.landing_dir).root / "state" / "backfill.json").exists()
