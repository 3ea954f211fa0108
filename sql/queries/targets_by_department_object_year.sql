-- Numeric targets by department, object and year: how many targets and their total per unit.
-- No parameters; filter the result by department or object as needed.
SELECT
    department,
    object,
    unit,
    plan_year,
    COUNT(*) AS targets,
    SUM(value) AS total_value
FROM v_plan_targets
GROUP BY department, object, unit, plan_year
ORDER BY department, object, unit, plan_year;
