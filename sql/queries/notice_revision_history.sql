-- Current vs previous revision of a notice: every revision of one notice, newest first.
-- Parameters: :host (e.g. www.qingdao.gov.cn), :notice_id.
SELECT
    revision,
    is_current,
    title,
    content_sha256,
    valid_from,
    valid_to,
    item_count,
    previous_revision,
    previous_item_count
FROM v_notice_revisions
WHERE host = :host AND notice_id = :notice_id
ORDER BY revision DESC;
