#!/usr/bin/env bash
# `make airflow-ui`: Airflow standalone (api-server + UI, scheduler, dag-processor, triggerer) on
# this checkout, with its metadata DB and logs under AIRFLOW_HOME (default .airflow/).
#
#   PORT=8080          port of the UI and API (the execution API URL follows it)
#   HOST=127.0.0.1     interface the UI binds to (0.0.0.0 to expose it)
#   SITE=sample        also serve the sample site on 127.0.0.1 and point the DAGs at it
#                      (default: the live site, or whatever QDP_SITE_URL says)
#   SITE_PORT=8765     port of that sample site
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
# Task processes report back to the API server: off port 8080 they must be told where it is,
# or every task fails while queued.
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:$PORT/execution/"
export GX_ANALYTICS_ENABLED=false
export QDP_DATA_DIR="${QDP_DATA_DIR:-$ROOT/data}"
mkdir -p "$AIRFLOW_HOME"

pids=()
cleanup() {
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
# Without this pool the crawl tasks wait in "scheduled" with no hint in the UI.
"$BIN/airflow" pools set qingdao_site "${QDP_SITE_POOL_SLOTS:-2}" "concurrent requests to the Qingdao site" > /dev/null

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
"$BIN/airflow" standalone &
airflow_pid=$!
pids+=("$airflow_pid")
# On Ctrl-C standalone stops its components itself: wait for it rather than leave orphans.
trap 'true' INT
while kill -0 "$airflow_pid" 2>/dev/null; do wait "$airflow_pid" || true; done
