-- v_quarantine_summary: which checks hold records back, and how often? (for engineers)
-- One row per run, record type and failed check: how many records, first and last time.
CREATE VIEW v_quarantine_summary AS
SELECT
    run_id,
    record_type,
    failed_check,
    COUNT(*) AS records,
    MIN(quarantined_at) AS first_quarantined_at,
    MAX(quarantined_at) AS last_quarantined_at
FROM quarantine
GROUP BY run_id, record_type, failed_check;
