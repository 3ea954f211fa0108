"""Parse decisions are keyed by notice AND content (issue 9, observed defects 3 and 4).

The parse stage used to skip any landed page whose bytes were in the warehouse under any notice
or revision: a good page coming back after an error revision, or a new notice whose bytes equal
another one's, was never loaded.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from etl.crawl.landing import LandingZone
from etl.load import current_content_hashes, load_notices
from etl.pipeline import PARSED_FILE, parse_stage, read_records, run_dir
from etl.records import FetchRecord
from etl.sample_site.site import Site
from etl.settings import Settings
from tests.fixtures.warehouse import T0, make_notice_record

pytestmark = pytest.mark.integration
HOST = "www.qingdao.gov.cn"


def _land(zone: LandingZone, notice_id: int, body: bytes, fetched_at: dt.datetime) -> str:
    sha = zone.put(body)
    zone.append(FetchRecord(url=f"https://{HOST}/zwgk/t20210305_{notice_id}.shtml", host=HOST, notice_id=notice_id,
                            channel="jyj-ghjh", fetched_at=fetched_at, http_status=200, sha256=sha,
                            bytes=len(body), charset=None, list_date=dt.date(2021, 3, 5)))
    return sha


def test_good_page_after_an_error_revision_and_identical_bytes_under_two_notices(engine, warehouse_url,
                                                                                  tmp_path) -> None:
    site = Site.build()
    good, other = site.notices("jyj-ghjh")[0].page().body, site.notices("kjj-gwfg")[0].page().body
    settings = Settings(data_dir=tmp_path, warehouse_url_override=warehouse_url)
    zone = LandingZone(settings.landing_dir)
    x, y, z = 3100001, 3100002, 3100003
    sha_good = _land(zone, x, good, T0 + dt.timedelta(hours=3))  # the real page is back
    _land(zone, y, good, T0 + dt.timedelta(hours=3))  # a new notice with the very same bytes
    sha_other = _land(zone, z, other, T0 + dt.timedelta(hours=3))  # already current: nothing to do
    zone.close()

    # Warehouse: x had the good content (revision 1), then an error page became current (revision 2).
    rev1 = dataclasses.replace(make_notice_record(x, version="good"), content_sha256=sha_good)
    err = make_notice_record(x, version="err", title="系统繁忙", fetched_at=T0 + dt.timedelta(hours=1))
    cur_z = dataclasses.replace(make_notice_record(z), content_sha256=sha_other)
    load_notices(engine, [rev1, err, cur_z])
    assert current_content_hashes(engine)[(HOST, x)] == err.content_sha256

    report = parse_stage(settings, "run-1")
    parsed = list(read_records(run_dir(settings, "run-1") / PARSED_FILE))
    assert sorted(r.notice_id for r in parsed) == [x, y]
    assert report.counts["skipped_already_loaded"] == 1

    loaded = load_notices(engine, parsed)
    assert (loaded.counts["notices_revised"], loaded.counts["notices_new"]) == (1, 1)
    current = current_content_hashes(engine)
    assert current[(HOST, x)] == current[(HOST, y)] == sha_good  # the good page is current again
    assert current[(HOST, z)] == sha_other
    # And the next parse has nothing to do.
    parse_stage(settings, "run-2")
    assert list(read_records(run_dir(settings, "run-2") / PARSED_FILE)) == []
