DROP INDEX communes_search_name_idx;
DROP INDEX communes_department_idx;
ALTER TABLE communes
    DROP COLUMN search_name,
    DROP COLUMN department,
    DROP COLUMN epci,
    DROP COLUMN epci_name,
    ALTER COLUMN territory_id SET NOT NULL;
DROP FUNCTION parcours_fold_place(text);
