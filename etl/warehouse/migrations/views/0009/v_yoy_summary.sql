-- v_yoy_summary: how much of a department's annual plan continued, changed, was new or dropped?
-- One row per department and plan year with an annual work plan (work_plan) or compare links:
-- the year's item count (NULL without an annual plan) and how many links of each status the
-- compare stage found. The status counts are NULL in a department's first year on record
-- (nothing to compare with).
CREATE VIEW v_yoy_summary AS
WITH plan_items AS (
    SELECT
        d.name AS department,
        n.plan_year,
        COUNT(*) AS items
    FROM plan_item AS i
    INNER JOIN notice AS n ON i.notice_rev_id = n.notice_rev_id
    INNER JOIN department AS d ON n.department_id = d.department_id
    WHERE n.is_current AND n.doc_type = 'work_plan' AND n.plan_year IS NOT NULL
    GROUP BY d.name, n.plan_year
),

links AS (
    SELECT
        department,
        plan_year,
        SUM(CASE WHEN status = 'continued' THEN 1 ELSE 0 END) AS continued,
        SUM(CASE WHEN status = 'revised' THEN 1 ELSE 0 END) AS revised,
        SUM(CASE WHEN status = 'possible' THEN 1 ELSE 0 END) AS possible,
        SUM(CASE WHEN status = 'new' THEN 1 ELSE 0 END) AS new,  -- noqa: RF04
        SUM(CASE WHEN status = 'dropped' THEN 1 ELSE 0 END) AS dropped
    FROM plan_item_link
    GROUP BY department, plan_year
),

years AS (
    SELECT
        department,
        plan_year
    FROM plan_items
    UNION
    SELECT
        department,
        plan_year
    FROM links
)

SELECT
    y.department,
    y.plan_year,
    p.items,
    l.continued,
    l.revised,
    l.possible,
    l.new,
    l.dropped
FROM years AS y
LEFT JOIN plan_items AS p
    ON y.department = p.department AND y.plan_year = p.plan_year
LEFT JOIN links AS l
    ON y.department = l.department AND y.plan_year = l.plan_year;
