-- Run history and quarantine summary for engineers: the latest :limit runs and what they held back.
-- Parameters: :limit (number of runs).
SELECT
    r.run_id,
    r.status,
    r.started_at,
    r.finished_at,
    r.stage_seconds,
    r.revisions_loaded,
    r.records_quarantined,
    q.record_type,
    q.failed_check,
    q.records
FROM v_run_history AS r
LEFT JOIN v_quarantine_summary AS q ON r.run_id = q.run_id
ORDER BY r.started_at DESC, r.run_id DESC, q.record_type ASC, q.failed_check ASC
LIMIT :limit;
