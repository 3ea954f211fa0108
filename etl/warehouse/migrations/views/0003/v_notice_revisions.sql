-- v_notice_revisions: how does a notice's current text differ from its previous revision?
-- One row per revision of every notice, beside the revision it replaced (NULLs for the first),
-- with item counts of both (NULL when there is none).
-- Filter on is_current for "current vs previous".
CREATE VIEW v_notice_revisions AS
SELECT
    cur.host,
    cur.notice_id,
    cur.revision,
    cur.is_current,
    cur.title,
    cur.published,
    cur.content_sha256,
    cur.valid_from,
    cur.valid_to,
    prev.revision AS previous_revision,
    prev.title AS previous_title,
    prev.content_sha256 AS previous_content_sha256,
    prev.valid_from AS previous_valid_from,
    (
        SELECT COUNT(*) FROM plan_item AS ci
        WHERE ci.notice_rev_id = cur.notice_rev_id
    ) AS item_count,
    CASE
        WHEN prev.notice_rev_id IS NOT NULL
            THEN (
                SELECT COUNT(*) FROM plan_item AS pi
                WHERE pi.notice_rev_id = prev.notice_rev_id
            )
    END AS previous_item_count
FROM notice AS cur
LEFT JOIN notice AS prev
    ON
        cur.host = prev.host
        AND cur.notice_id = prev.notice_id
        AND cur.revision - 1 = prev.revision;
