#!/usr/bin/env python3
"""The README's figures, measured on a fresh clone of this checkout (stdlib only).

    python3 scripts/measure.py [--write] [--skip-test] [--skip-demo]

Clones HEAD into a temporary folder, then times: the set-up (`make .venv/.installed`),
`make airflow-ui` from its start to a healthy scheduler (`/api/v2/monitor/health`), `make demo`,
and `make test` (with its test count). Prints the block; `--write` puts it into README.md between
the `measured` markers. The figures depend on the machine and its load; the block says both.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- measured:begin (scripts/measure.py --write) -->", "<!-- measured:end -->"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "QDP_", "VIRTUAL_ENV"))}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    return env


def _timed(cmd: list[str], cwd: Path, log: Path) -> tuple[float, str]:
    started = time.monotonic()
    with log.open("w") as fh:
        proc = subprocess.run(cmd, cwd=cwd, env=_clean_env(), stdout=fh, stderr=subprocess.STDOUT, check=False)
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}); log: {log}\n{log.read_text()[-3000:]}")
    return seconds, log.read_text()


def airflow_ui_to_healthy_scheduler(clone: Path, logs: Path, timeout: float = 600) -> float:
    port = _free_port()
    log = logs / "airflow-ui.log"
    started = time.monotonic()
    with log.open("w") as fh:
        proc = subprocess.Popen(["make", "airflow-ui", f"PORT={port}"], cwd=clone, env=_clean_env(),
                                stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while time.monotonic() - started < timeout:
            if proc.poll() is not None:
                sys.exit(f"make airflow-ui exited ({proc.returncode}); log: {log}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=5) as r:
                    if json.load(r)["scheduler"]["status"] == "healthy":
                        return time.monotonic() - started
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.5)
        sys.exit(f"no healthy scheduler after {timeout:.0f}s; log: {log}")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _mmss(seconds: float) -> str:
    return f"{int(seconds) // 60} min {int(seconds) % 60:02d} s" if seconds >= 60 else f"{seconds:.0f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="replace the measured block of README.md")
    parser.add_argument("--skip-test", action="store_true", help="do not time `make test`")
    parser.add_argument("--skip-demo", action="store_true", help="do not time `make demo`")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="qdp-measure-") as tmp:
        clone, logs = Path(tmp) / "clone", Path(tmp)
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True,
                                text=True, check=True).stdout.strip()
        cores = os.cpu_count()
        load = os.getloadavg()[0]
        rows = []
        setup, _ = _timed(["make", ".venv/.installed"], clone, logs / "setup.log")
        rows.append(("set-up (`make .venv/.installed`: venv + pinned install)", _mmss(setup)))
        ui = airflow_ui_to_healthy_scheduler(clone, logs)
        rows.append(("`make airflow-ui` to a healthy scheduler (after set-up; fresh `.airflow/`)", _mmss(ui)))
        if not args.skip_demo:
            demo, _ = _timed(["make", "demo"], clone, logs / "demo.log")
            rows.append(("`make demo` (after set-up)", _mmss(demo)))
        if not args.skip_test:
            test, out = _timed(["make", "test"], clone, logs / "test.log")
            summary = re.findall(r"=+ (.*? in [\d.]+s.*?) =+", out)
            counts = summary[-1].split(" in ")[0] if summary else "?"
            rows.append((f"`make test` (after set-up): {counts}", _mmss(test)))

    lines = [BEGIN, "",
             f"Measured by `python3 scripts/measure.py` on a fresh clone of {commit}, {cores} cores, "
             f"load average {load:.1f} at the start (other jobs share the machine):", "",
             "| what | wall time |", "| --- | --- |"]
    lines += [f"| {what} | {value} |" for what, value in rows]
    lines += ["", END]
    block = "\n".join(lines)
    print(block)
    if args.write:
        readme = ROOT / "README.md"
        text = readme.read_text(encoding="utf-8")
        if BEGIN not in text or END not in text:
            sys.exit("README.md has no measured block to replace")
        head, rest = text.split(BEGIN, 1)
        readme.write_text(head + block + rest.split(END, 1)[1], encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
