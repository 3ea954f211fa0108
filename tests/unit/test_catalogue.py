"""The channel catalogue (`qdp channels`): coverage, generated year folders, filters, and
discovery against a local site whose navigation differs from the catalogue."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from etl.cli import main
from etl.crawl import parse_channels
from etl.crawl.catalogue import TREES, build_catalogue, discover, filter_catalogue
from etl.settings import Settings


def test_catalogue_covers_every_department_and_tree():
    entries = build_catalogue(first_year=2020, last_year=2024)
    departments = {e.channel.department for e in entries if e.channel.department}
    assert len(departments) >= 30
    assert {e.tree for e in entries} == set(TREES)
    keys = [e.channel.key for e in entries]
    assert len(keys) == len(set(keys))
    # Year folders: one per year and tree, with the live URL shapes.
    assert [e.channel.list_path for e in entries if e.tree == "smhd"] == [
        f"/ywdt/zwzl/smhd/smhd{y}/" for y in range(2020, 2025)]
    assert "/zwgk/zdgk/fgwj/zcwj/szfgw/2023/" in {e.channel.list_path for e in entries}
    # Every entry is a valid channel, so a selection can be watched as it is.
    parse_channels({"channels": [e.channel.to_dict() for e in entries]}, source="catalogue")


def test_catalogue_keeps_the_watched_channels_and_known_exceptions():
    paths = {e.channel.list_path: e for e in build_catalogue(first_year=2024, last_year=2024)}
    for key, path in [("jyj-ghjh", "/zwgk/xxgk/jyj/gkml/ghjh/"), ("fgw-gwfg-bmgw", "/zwgk/xxgk/fgw/gkml/gwfg/bmgw/"),
                      ("kjj-gwfg", "/zwgk/xxgk/kjj/gkml/gwfg/"), ("bgt-gzxx", "/zwgk/xxgk/bgt/gkml/gzxx/")]:
        assert paths[path].channel.key == key
    assert paths["/zwgk/xxgk/jyj/gkml/ghjh/"].code_seen
    assert not paths["/zwgk/xxgk/yjs/gkml/ghjh/"].code_seen  # a guessed code says so


def test_filter_by_alias_code_and_tree_and_unknown_names():
    entries = build_catalogue(first_year=2024, last_year=2024)
    by_alias = filter_catalogue(entries, department="市教育局")
    assert by_alias == filter_catalogue(entries, department="jyj") == filter_catalogue(entries, department="教育局")
    assert {e.channel.column for e in by_alias} == {"gkml/ghjh", "gkml/gwfg", "gkml/gzxx"}
    assert all(e.tree == "smhd" for e in filter_catalogue(entries, tree="smhd"))
    with pytest.raises(ValueError, match="unknown department"):
        filter_catalogue(entries, department="市教委")
    with pytest.raises(ValueError, match="unknown tree"):
        filter_catalogue(entries, tree="zfgb")
    with pytest.raises(ValueError, match="after the last year"):
        build_catalogue(first_year=2030, last_year=2024)


def test_cli_json_yaml_and_errors(capsys, tmp_path):
    assert main(["channels", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"key", "department", "department_code", "column", "list_path", "kind", "tree", "watched"} <= set(rows[0])
    assert {r["key"] for r in rows if r["watched"]} >= {"jyj-ghjh", "kjj-gwfg", "whly-gzxx"}
    assert len({r["department"] for r in rows if r["department"]}) >= 30

    assert main(["channels", "--department", "kjj", "--yaml"]) == 0
    data = yaml.safe_load(capsys.readouterr().out)
    assert [c.key for c in parse_channels(data)] == ["kjj-ghjh", "kjj-gwfg", "kjj-gzxx"]

    with pytest.raises(SystemExit, match="unknown department"):
        main(["channels", "--department", "no such bureau"])


# --------------------------------------------------------------------------- discovery

INDEX = """<html><body><div class="nav"><ul>
<li><a href="/zwgk/xxgk/jyj/">青岛市教育局</a></li>
<li><a href="/zwgk/xxgk/kjj/index.shtml">青岛市科学技术局</a></li>
<li><a href="/zwgk/xxgk/qxj/">青岛市气象局</a></li>
<li><a href="/zwgk/xxgk/sjj/">青岛市审计局</a></li>
<li><a href="https://elsewhere.example/zwgk/xxgk/evil/">off-site</a></li>
</ul></div></body></html>"""
NAV = {
    "jyj": ["ghjh", "gzxx", "tzgg"],  # tzgg is a column the catalogue lacks
    "kjj": ["gwfg"],
    "qxj": ["ghjh"],  # a department the table lacks
    # sjj is on the index but its navigation page is missing: reported, not fatal
}


class _Site(BaseHTTPRequestHandler):
    def do_GET(self):
        body = None
        if self.path == "/zwgk/xxgk/":
            body = INDEX
        elif self.path == "/robots.txt":
            body = "User-agent: *\nAllow: /\n"
        else:
            for code, cols in NAV.items():
                if self.path == f"/zwgk/xxgk/{code}/gkml/":
                    links = "".join(f'<li><a href="/zwgk/xxgk/{code}/gkml/{c}/">{c}</a></li>' for c in cols)
                    body = f"<html><body><ul class='column-nav'>{links}</ul></body></html>"
        if body is None:
            self.send_error(404)
            return
        data = body.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def nav_site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_discover_proposes_new_columns_and_unknown_departments(nav_site, tmp_path):
    settings = Settings(site_url=nav_site, data_dir=tmp_path, rate_limit=0, retries=0)
    found = {p.list_path: p for p in discover(settings)}
    assert found["/zwgk/xxgk/jyj/gkml/ghjh/"].status == "known"
    assert found["/zwgk/xxgk/jyj/gkml/tzgg/"].status == "new"
    assert found["/zwgk/xxgk/jyj/gkml/tzgg/"].department == "青岛市教育局"
    assert found["/zwgk/xxgk/qxj/gkml/ghjh/"].status == "unknown_department"
    assert found["/zwgk/xxgk/qxj/gkml/ghjh/"].department == "青岛市气象局"
    assert not any("evil" in p for p in found)
    assert found["/zwgk/xxgk/sjj/gkml/"].status == "unreadable"
    assert "404" in found["/zwgk/xxgk/sjj/gkml/"].link_text


def test_discover_fails_loudly_when_the_index_is_gone(nav_site, tmp_path):
    settings = Settings(site_url=nav_site, data_dir=tmp_path, rate_limit=0, retries=0)
    with pytest.raises(RuntimeError, match="could not be read"):
        discover(settings, index_path="/no/such/index/")
