-- Numeric targets by department, plan kind, object and year: how many targets and their total per
-- unit. Annual work plans (work_plan) and multi-year action plans (action_plan) stay in separate
-- rows: a three-year target is not added to a one-year one.
-- No parameters; filter the result by department, doc_type or object as needed.
SELECT
    department,
    doc_type,
    object,
    unit,
    plan_year,
    COUNT(*) AS targets,
    SUM(value) AS total_value
FROM v_plan_targets
GROUP BY department, doc_type, object, unit, plan_year
ORDER BY department, doc_type, object, unit, plan_year;
