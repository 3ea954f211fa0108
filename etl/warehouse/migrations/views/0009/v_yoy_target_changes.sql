-- v_yoy_target_changes: how did a department's numeric targets move since last year?
-- For items the compare stage linked (continued or revised), every target whose object and
-- unit appear in both years' items: last year's value, this year's value and the change. Both
-- sides come from the same kind of plan (doc_type), so an annual target is never set against
-- a multi-year one; compare values only within one unit.
CREATE VIEW v_yoy_target_changes AS
WITH current_targets AS (
    SELECT
        i.item_uid,
        n.doc_type,
        n.plan_year,
        n.notice_id,
        t.action,
        t.object,
        t.value,
        t.unit,
        t.modifier,
        t.target_kind,
        t.span
    FROM plan_target AS t
    INNER JOIN plan_item AS i
        ON
            t.notice_rev_id = i.notice_rev_id
            AND t.section = i.section
            AND t.ordinal = i.ordinal
    INNER JOIN notice AS n ON t.notice_rev_id = n.notice_rev_id
    WHERE n.is_current
)

SELECT
    l.department,
    l.plan_year,
    cur.doc_type,
    l.status,
    l.item_uid,
    l.previous_item_uid,
    prev.plan_year AS previous_plan_year,
    cur.object,
    cur.unit,
    cur.action,
    prev.value AS previous_value,
    cur.value,
    prev.modifier AS previous_modifier,
    cur.modifier,
    prev.span AS previous_span,
    cur.span,
    cur.notice_id,
    prev.notice_id AS previous_notice_id,
    cur.value - prev.value AS value_change,
    CASE
        WHEN cur.value > prev.value THEN 'raised'
        WHEN cur.value < prev.value THEN 'lowered'
        ELSE 'kept'
    END AS movement
FROM plan_item_link AS l
INNER JOIN current_targets AS cur ON l.item_uid = cur.item_uid
INNER JOIN current_targets AS prev
    ON
        l.previous_item_uid = prev.item_uid
        AND cur.doc_type = prev.doc_type
        AND cur.object = prev.object
        AND cur.unit = prev.unit
WHERE
    l.status IN ('continued', 'revised')
    AND COALESCE(cur.target_kind, 'target') = 'target'
    AND COALESCE(prev.target_kind, 'target') = 'target';
