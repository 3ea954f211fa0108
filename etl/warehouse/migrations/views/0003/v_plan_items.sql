-- v_plan_items: what did each department plan, year by year?
-- One row per task (plan item) of the current revision of every notice, with its department,
-- plan year, document type, section heading and text. Filter on department and plan_year.
CREATE VIEW v_plan_items AS
SELECT
    d.name AS department,
    n.plan_year,
    n.doc_type,
    n.title,
    n.published,
    n.host,
    n.notice_id,
    n.url,
    i.item_uid,
    i.section,
    s.title AS section_title,
    i.ordinal,
    i.marker,
    i.headline,
    i.text
FROM plan_item AS i
INNER JOIN notice AS n ON i.notice_rev_id = n.notice_rev_id
LEFT JOIN department AS d ON n.department_id = d.department_id
LEFT JOIN plan_section AS s
    ON i.notice_rev_id = s.notice_rev_id AND i.section = s.section
WHERE n.is_current;
