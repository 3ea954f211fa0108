#!/usr/bin/env bash
# `make airflow-ui`: Airflow standalone (api-server + UI, scheduler, dag-processor, triggerer) on
# this checkout, with its metadata DB and logs under AIRFLOW_HOME (default .airflow/).
#
#   PORT=8080          port of the UI and API (the execution API URL follows it; the task and
#                      trigger log servers take PORT+1 and PORT+2)
#   HOST=127.0.0.1     interface the UI binds to (0.0.0.0 to expose it)
#   SITE=sample        also serve the sample site on 127.0.0.1 and point the DAGs at it
#                      (default: the live site, or whatever QDP_SITE_URL says)
#   SITE_PORT=8765     port of that sample site
#   POOL_SLOTS=2       slots of the qingdao_site pool (concurrent crawl tasks)
#   PARALLELISM=4      task processes at once
#
# Prints the URL and the file holding the admin password, then runs until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN="$ROOT/.venv/bin"
# Standalone starts its components as `airflow ...` through PATH: the venv's binaries first.
export PATH="$BIN:$PATH"

PORT=${PORT:-8080}
HOST=${HOST:-127.0.0.1}
SITE=${SITE:-}
SITE_PORT=${SITE_PORT:-8765}

export AIRFLOW_HOME="${AIRFLOW_HOME:-$ROOT/.airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="$ROOT/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__API__PORT="$PORT"
export AIRFLOW__API__HOST="$HOST"
# The task and trigger log servers (the UI reads running tasks' logs there) follow PORT, so that
# two instances on one machine do not fight over 8793/8794.
export AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT="${WORKER_LOG_PORT:-$((PORT + 1))}"
export AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT="${TRIGGER_LOG_PORT:-$((PORT + 2))}"
# At most this many task processes at once (LocalExecutor keeps one worker process per slot).
export AIRFLOW__CORE__PARALLELISM="${PARALLELISM:-4}"
# Task processes report back to the API server: off port 8080 they must be told where it is,
# or every task fails while queued.
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:$PORT/execution/"
export GX_ANALYTICS_ENABLED=false
export QDP_DATA_DIR="${QDP_DATA_DIR:-$ROOT/data}"
mkdir -p "$AIRFLOW_HOME"

pids=()
airflow_pid=
stop_airflow() {  # SIGTERM to every component, SIGKILL to what is left after 20 s
  [ -n "$airflow_pid" ] || return 0
  kill -TERM -- "-$airflow_pid" 2>/dev/null || return 0
  for _ in $(seq 40); do
    kill -0 -- "-$airflow_pid" 2>/dev/null || return 0
    sleep 0.5
  done
  kill -KILL -- "-$airflow_pid" 2>/dev/null || true
}
cleanup() {
  stop_airflow
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

case "$SITE" in
  "" | live) ;;
  sample)
    export QDP_SITE_URL="http://127.0.0.1:$SITE_PORT"
    export QDP_RATE_LIMIT="${QDP_RATE_LIMIT:-0}"   # our own local server: no need to be polite
    "$BIN/qdp" sample-site --port "$SITE_PORT" > "$AIRFLOW_HOME/sample-site.log" 2>&1 &
    pids+=($!)
    up=
    for _ in $(seq 100); do
      if "$BIN/python" -c "import urllib.request; urllib.request.urlopen('$QDP_SITE_URL/robots.txt', timeout=1)" \
           2>/dev/null; then up=1; break; fi
      kill -0 "${pids[-1]}" 2>/dev/null || break
      sleep 0.2
    done
    [ -n "$up" ] || { cat "$AIRFLOW_HOME/sample-site.log" >&2; echo "sample site did not start on port $SITE_PORT" >&2; exit 1; }
    ;;
  *) echo "SITE must be 'sample' or 'live' (got '$SITE')" >&2; exit 2 ;;
esac

echo "airflow-ui: migrating the metadata DB ($AIRFLOW_HOME)"
"$BIN/airflow" db migrate > "$AIRFLOW_HOME/db-migrate.log" 2>&1 || { tail -n 40 "$AIRFLOW_HOME/db-migrate.log" >&2; exit 1; }
# Without this pool the crawl tasks wait in "scheduled" with no hint in the UI. Created once; a
# size changed later in the UI is kept.
"$BIN/airflow" pools get qingdao_site > /dev/null 2>&1 ||
  "$BIN/airflow" pools set qingdao_site "${POOL_SLOTS:-2}" "concurrent requests to the Qingdao site" > /dev/null

password_file=$(
  "$BIN/python" -c 'from airflow.configuration import conf; import os; print(conf.get("core", "simple_auth_manager_passwords_file", fallback=None) or os.path.join(os.environ["AIRFLOW_HOME"], "simple_auth_manager_passwords.json.generated"))'
)
cat <<EOF

  Airflow UI:      http://localhost:$PORT   (user admin; password in $password_file,
                   written on first start)
  site crawled:    ${QDP_SITE_URL:-https://www.qingdao.gov.cn (live)}
  data dir:        $QDP_DATA_DIR
  Airflow home:    $AIRFLOW_HOME   (logs under logs/)
  Ctrl-C stops everything.

EOF
# In a session of its own, stopped as a whole: on Ctrl-C standalone's scheduler can wait
# indefinitely for idle LocalExecutor workers, and a job started by a script ignores SIGINT anyway.
setsid "$BIN/airflow" standalone &
airflow_pid=$!
wait "$airflow_pid"
