-- Items by department and year: the tasks one department planned for one year, in document order.
-- Parameters: :department (canonical name, e.g. 青岛市教育局), :plan_year (e.g. 2021).
SELECT
    notice_id,
    title,
    section,
    section_title,
    ordinal,
    marker,
    headline,
    text
FROM v_plan_items
WHERE department = :department AND plan_year = :plan_year
ORDER BY notice_id, section, ordinal;
