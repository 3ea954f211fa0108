-- v_plan_targets: which numeric targets did each department set, for what, in which year?
-- One row per numeric target (新建幼儿园20所: action 新建, object 幼儿园, value 20, unit 所) in
-- the current revision of every notice, with the item it belongs to.
CREATE VIEW v_plan_targets AS
SELECT
    d.name AS department,
    n.plan_year,
    n.doc_type,
    n.host,
    n.notice_id,
    i.item_uid,
    i.headline,
    t.target_ordinal,
    t.action,
    t.object,
    t.value,
    t.unit,
    t.modifier,
    t.value_min,
    t.value_max,
    t.target_kind,
    t.span
FROM plan_target AS t
INNER JOIN plan_item AS i
    ON
        t.notice_rev_id = i.notice_rev_id
        AND t.section = i.section
        AND t.ordinal = i.ordinal
INNER JOIN notice AS n ON t.notice_rev_id = n.notice_rev_id
LEFT JOIN department AS d ON n.department_id = d.department_id
WHERE n.is_current;
