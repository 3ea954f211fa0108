-- Run history and quarantine summary for engineers: the latest :limit runs and what they held back.
-- The limit counts runs, not rows: a run with three failing checks still shows all three.
-- Parameters: :limit (number of runs).
WITH latest_runs AS (
    SELECT
        run_id,
        status,
        started_at,
        finished_at,
        duration_seconds,
        list_pages,
        pages_fetched,
        records_rejected,
        revisions_loaded,
        records_quarantined
    FROM v_run_health
    WHERE run_rank <= :limit
)

SELECT
    r.run_id,
    r.status,
    r.started_at,
    r.finished_at,
    r.duration_seconds,
    r.list_pages,
    r.pages_fetched,
    r.records_rejected,
    r.revisions_loaded,
    r.records_quarantined,
    q.record_type,
    q.failed_check,
    q.records
FROM latest_runs AS r
LEFT JOIN v_quarantine_summary AS q ON r.run_id = q.run_id
ORDER BY r.started_at DESC, r.run_id DESC, q.record_type ASC, q.failed_check ASC;
