-- Recent notices: notices published on or after :since (a date, e.g. today minus N days), newest
-- first. The site's publication date decides, not when the crawler first fetched the page (a
-- backfill fetches years of notices at once); notices without a date are left out.
-- Revisions of a notice keep its publication date; they appear in v_notice_revisions.
-- Parameters: :since (date).
SELECT
    n.host,
    n.notice_id,
    n.title,
    n.published,
    d.name AS department,
    n.doc_type,
    n.plan_year,
    n.url,
    n.first_seen_at
FROM notice AS n
LEFT JOIN department AS d ON n.department_id = d.department_id
WHERE n.is_current AND n.published >= :since
ORDER BY n.published DESC, n.notice_id DESC;
