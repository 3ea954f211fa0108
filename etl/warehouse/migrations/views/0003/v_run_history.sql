-- v_run_history: how did the pipeline runs go? (for engineers)
-- One row per run: Airflow ids, start/end, status, number of stages reported, their total
-- seconds, notice revisions loaded and records quarantined.
CREATE VIEW v_run_history AS
SELECT
    r.run_id,
    r.dag_id,
    r.dag_run_id,
    r.started_at,
    r.finished_at,
    r.status,
    (
        SELECT COUNT(*) FROM etl_run_stage AS s
        WHERE s.run_id = r.run_id
    ) AS stage_count,
    (
        SELECT SUM(s.seconds) FROM etl_run_stage AS s
        WHERE s.run_id = r.run_id
    ) AS stage_seconds,
    (
        SELECT COUNT(*) FROM notice AS n
        WHERE n.load_run_id = r.run_id
    ) AS revisions_loaded,
    (
        SELECT COUNT(*) FROM quarantine AS q
        WHERE q.run_id = r.run_id
    ) AS records_quarantined
FROM etl_run AS r;
