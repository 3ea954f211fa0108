-- v_plan_items: what did each department plan, year by year?
-- One row per task (plan item) of the current revision of every notice, with its department,
-- plan year, document type (annual work_plan or multi-year action_plan), section heading, group
-- heading, position, text and lead/partner units. Filter on department, plan_year and doc_type.
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
    i.item_group,
    i.ordinal,
    ROW_NUMBER() OVER (
        PARTITION BY i.notice_rev_id ORDER BY i.section, i.ordinal
    ) AS item_order,
    i.marker,
    i.headline,
    i.text,
    {% if backend == 'postgresql' %}
        ARRAY(SELECT JSONB_ARRAY_ELEMENTS_TEXT(i.lead_units)) AS lead_units,
        ARRAY(SELECT JSONB_ARRAY_ELEMENTS_TEXT(i.partner_units)) AS partner_units
    {% else %}
        i.lead_units,
        i.partner_units
    {% endif %}
FROM plan_item AS i
INNER JOIN notice AS n ON i.notice_rev_id = n.notice_rev_id
LEFT JOIN department AS d ON n.department_id = d.department_id
LEFT JOIN plan_section AS s
    ON i.notice_rev_id = s.notice_rev_id AND i.section = s.section
WHERE n.is_current;
