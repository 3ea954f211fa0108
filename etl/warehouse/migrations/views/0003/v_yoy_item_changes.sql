-- v_yoy_item_changes: what changed in a department's plan since last year?
-- One row per year-over-year link of the compare stage: continued, revised, new or dropped
-- items, with this year's and last year's headline and text side by side.
CREATE VIEW v_yoy_item_changes AS
WITH current_items AS (
    SELECT
        i.item_uid,
        i.headline,
        i.text
    FROM plan_item AS i
    INNER JOIN notice AS n ON i.notice_rev_id = n.notice_rev_id
    WHERE n.is_current
)

SELECT
    l.department,
    l.plan_year,
    l.status,
    l.similarity,
    l.item_uid,
    l.previous_item_uid,
    cur.headline,
    cur.text,
    prev.headline AS previous_headline,
    prev.text AS previous_text,
    l.computed_at
FROM plan_item_link AS l
LEFT JOIN current_items AS cur ON l.item_uid = cur.item_uid
LEFT JOIN current_items AS prev ON l.previous_item_uid = prev.item_uid;
