-- A PAG ends for one of the national reasons, TRE_R421 « Motif fin PAG »
-- (value set JDV_J403, ANS terminologies, draft of 2026-05-05); the local
-- reasons before them remain for the other kinds of plan.
ALTER TYPE plan_end_reason ADD VALUE 'target_reached';
ALTER TYPE plan_end_reason ADD VALUE 'alternative_sustained';
ALTER TYPE plan_end_reason ADD VALUE 'specific_solution_became_target';
ALTER TYPE plan_end_reason ADD VALUE 'coordination_without_pag';
ALTER TYPE plan_end_reason ADD VALUE 'person_request';
ALTER TYPE plan_end_reason ADD VALUE 'derogations_ended';
ALTER TYPE plan_end_reason ADD VALUE 'new_pag';
ALTER TYPE plan_end_reason ADD VALUE 'moved_out_of_department';
ALTER TYPE plan_end_reason ADD VALUE 'deceased';
