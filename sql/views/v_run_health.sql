-- v_run_health: are the pipeline runs healthy, and what did the latest ones do? (for engineers)
-- One row per run, newest first by run_rank (1 = latest): status as recorded, duration, list
-- pages read, pages fetched and failed, parse errors, records rejected by validation, records
-- quarantined and notice revisions loaded. Counts are NULL when the stage did not report.
CREATE VIEW v_run_health AS
WITH stage_counts AS (
    SELECT
        run_id,
        SUM(CASE WHEN stage = 'crawl' THEN CAST(counts ->> 'list_pages' AS INTEGER) END) AS list_pages,
        SUM(CASE WHEN stage = 'crawl' THEN CAST(counts ->> 'detail_fetched' AS INTEGER) END)
            AS pages_fetched,
        SUM(CASE WHEN stage = 'crawl' THEN CAST(counts ->> 'failed' AS INTEGER) END) AS pages_failed,
        SUM(CASE WHEN stage = 'parse' THEN CAST(counts ->> 'parse_errors' AS INTEGER) END)
            AS parse_errors,
        SUM(
            CASE
                WHEN stage = 'validate'
                    THEN
                        COALESCE(CAST(counts ->> 'notices_quarantined' AS INTEGER), 0)
                        + COALESCE(CAST(counts ->> 'items_quarantined' AS INTEGER), 0)
                        + COALESCE(CAST(counts ->> 'targets_quarantined' AS INTEGER), 0)
            END
        ) AS records_rejected,
        SUM(seconds) AS stage_seconds
    FROM etl_run_stage
    GROUP BY run_id
)

SELECT
    r.run_id,
    ROW_NUMBER() OVER (ORDER BY r.started_at DESC, r.run_id DESC) AS run_rank,
    r.dag_id,
    r.dag_run_id,
    r.status,
    r.started_at,
    r.finished_at,
    {% if backend == 'postgresql' %}
        EXTRACT(EPOCH FROM (r.finished_at - r.started_at)) AS duration_seconds,
    {% else %}
        (JULIANDAY(r.finished_at) - JULIANDAY(r.started_at)) * 86400.0 AS duration_seconds,
    {% endif %}
    c.stage_seconds,
    c.list_pages,
    c.pages_fetched,
    c.pages_failed,
    c.parse_errors,
    c.records_rejected,
    (
        SELECT COUNT(*) FROM quarantine AS q
        WHERE q.run_id = r.run_id
    ) AS records_quarantined,
    (
        SELECT COUNT(*) FROM notice AS n
        WHERE n.load_run_id = r.run_id
    ) AS revisions_loaded
FROM etl_run AS r
LEFT JOIN stage_counts AS c ON r.run_id = c.run_id;
