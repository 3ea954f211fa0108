-- New notices in the last N days: notices first seen at or after :since (pass now minus N days).
-- Revisions of older notices are not new; they appear in v_notice_revisions.
-- Parameters: :since (timestamp, UTC).
SELECT
    n.host,
    n.notice_id,
    n.title,
    n.published,
    d.name AS department,
    n.doc_type,
    n.url,
    n.first_seen_at
FROM notice AS n
LEFT JOIN department AS d ON n.department_id = d.department_id
WHERE n.is_current AND n.first_seen_at >= :since
ORDER BY n.first_seen_at DESC, n.notice_id DESC;
