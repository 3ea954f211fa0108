-- v_yoy_item_changes: what changed in a department's plan since last year?
-- One row per year-over-year link of the compare stage (continued, revised, new or dropped),
-- with this year's and last year's item side by side: headline, text, section, group, position
-- and the notice (id, title, URL) each comes from. Links join annual plans (work_plan) only.
CREATE VIEW v_yoy_item_changes AS
WITH current_items AS (
    SELECT
        i.item_uid,
        i.section,
        s.title AS section_title,
        i.item_group,
        i.ordinal,
        i.marker,
        i.headline,
        i.text,
        n.doc_type,
        n.plan_year,
        n.notice_id,
        n.title AS notice_title,
        n.url
    FROM plan_item AS i
    INNER JOIN notice AS n ON i.notice_rev_id = n.notice_rev_id
    LEFT JOIN plan_section AS s
        ON i.notice_rev_id = s.notice_rev_id AND i.section = s.section
    WHERE n.is_current
)

SELECT
    l.department,
    l.plan_year,
    l.status,
    l.similarity,
    l.item_uid,
    l.previous_item_uid,
    cur.section,
    cur.section_title,
    cur.item_group,
    cur.ordinal,
    cur.marker,
    cur.headline,
    cur.text,
    cur.notice_id,
    cur.notice_title,
    cur.url,
    prev.plan_year AS previous_plan_year,
    prev.section AS previous_section,
    prev.section_title AS previous_section_title,
    prev.ordinal AS previous_ordinal,
    prev.headline AS previous_headline,
    prev.text AS previous_text,
    prev.notice_id AS previous_notice_id,
    prev.notice_title AS previous_notice_title,
    prev.url AS previous_url,
    l.computed_at,
    COALESCE(cur.doc_type, prev.doc_type) AS doc_type
FROM plan_item_link AS l
LEFT JOIN current_items AS cur ON l.item_uid = cur.item_uid
LEFT JOIN current_items AS prev ON l.previous_item_uid = prev.item_uid;
