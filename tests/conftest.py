"""Shared test set-up: isolate every test from the developer's environment.

Fixtures live in tests/fixtures/ (one module per concern) and are registered here.
"""

from __future__ import annotations

import os
import tempfile

import pytest

# Never let GX phone home, whatever the test does.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# Airflow reads its home at import time: give the whole session a private one.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="qdp-airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

pytest_plugins = [
    "tests.fixtures.sample_site",
    "tests.fixtures.warehouse",
    "tests.fixtures.receivers",
    "tests.fixtures.chromium",
    "tests.fixtures.attachment_site",
]


@pytest.fixture(autouse=True)
def _isolated_qdp_env(monkeypatch, tmp_path_factory):
    """Drop QDP_* settings from the outer environment and give each test its own data dir."""
    for key in list(os.environ):
        if key.startswith("QDP_") and not key.startswith("QDP_TEST_"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("QDP_DATA_DIR", str(tmp_path_factory.mktemp("qdp-data")))
