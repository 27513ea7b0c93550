-- Name search that reads only the rows it returns. A person's folded name
-- is split into words (person_name_words, one row per word and person);
-- the distinct words, with how many persons bear each, form a small
-- dictionary (name_words) that the trigram index searches for the
-- variants of a typed word. parcours_search_persons then walks the
-- variants best first and stops as soon as no later one can beat the k
-- persons already found. Both tables are kept by the triggers below, so
-- no code path can forget them; anonymised persons are not in them.

-- The words of an already folded name, in order of first appearance,
-- without repeats; single letters (d', l') are not words here.
CREATE FUNCTION parcours_words(folded text) RETURNS text[] AS $$
    SELECT coalesce(array_agg(w ORDER BY first), '{}') FROM (
        SELECT w, min(i) AS first
        FROM regexp_split_to_table(folded, '[^[:alnum:]]+') WITH ORDINALITY AS t(w, i)
        WHERE length(w) >= 2
        GROUP BY w) words
$$ LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE;

-- fillfactor leaves room on each page, so that a count changes in place
-- (a HOT update) without touching the trigram index.
CREATE TABLE name_words (
    word text PRIMARY KEY,
    -- 0 only inside parcours_name_words_count, which then deletes it.
    persons integer NOT NULL CHECK (persons >= 0)
) WITH (fillfactor = 50);
CREATE INDEX name_words_trgm_idx ON name_words USING gin (word gin_trgm_ops);

CREATE TABLE person_name_words (
    word text NOT NULL,
    person_id uuid NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    -- The person's, copied so that the scope is checked in the index.
    territory_id uuid NOT NULL,
    PRIMARY KEY (word, person_id) INCLUDE (territory_id)
);
CREATE INDEX person_name_words_person_idx ON person_name_words (person_id, word);

-- Counts each word of `added` once more and each of `removed` once less
-- (a word once per person). The counts it changes are locked first, in
-- word order, so that two writers never wait on each other in a cycle; a
-- word no one bears any more then leaves the dictionary.
CREATE FUNCTION parcours_name_words_delta(added text[], removed text[])
RETURNS TABLE (word text, delta integer) AS $$
    SELECT w, sum(d)::integer FROM (
        SELECT w, 1 AS d FROM unnest(added) w
        UNION ALL
        SELECT w, -1 FROM unnest(removed) w) counted
    GROUP BY w HAVING sum(d) <> 0
$$ LANGUAGE sql IMMUTABLE;

CREATE FUNCTION parcours_name_words_count(added text[], removed text[]) RETURNS void AS $$
    -- One primary-key lookup a word, in word order (a join could scan the
    -- dictionary once per word while its statistics are young).
    SELECT count(*)
    FROM (SELECT word FROM parcours_name_words_delta(added, removed) ORDER BY word) d,
    LATERAL (SELECT 1 FROM name_words nw WHERE nw.word = d.word FOR UPDATE) locked;
    INSERT INTO name_words AS nw (word, persons)
    SELECT word, delta FROM parcours_name_words_delta(added, removed) WHERE delta > 0 ORDER BY word
    ON CONFLICT (word) DO UPDATE SET persons = nw.persons + excluded.persons;
    UPDATE name_words nw SET persons = nw.persons + d.delta
    FROM parcours_name_words_delta(added, removed) d
    WHERE d.delta < 0 AND nw.word = d.word;
    DELETE FROM name_words nw USING parcours_name_words_delta(added, removed) d
    WHERE d.delta < 0 AND nw.word = d.word AND nw.persons = 0;
$$ LANGUAGE sql VOLATILE;

CREATE FUNCTION parcours_persons_inserted() RETURNS trigger AS $$
BEGIN
    INSERT INTO person_name_words (word, person_id, territory_id)
    SELECT w, n.id, n.territory_id
    FROM new_rows n, unnest(parcours_words(n.search_name)) w
    WHERE n.anonymised_at IS NULL;
    PERFORM parcours_name_words_count(
        ARRAY(SELECT w FROM new_rows n, unnest(parcours_words(n.search_name)) w
              WHERE n.anonymised_at IS NULL),
        '{}');
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION parcours_persons_updated() RETURNS trigger AS $$
DECLARE
    changed uuid[];
BEGIN
    -- Only the rows whose words, territory or anonymisation changed.
    changed := ARRAY(
        SELECT o.id FROM old_rows o JOIN new_rows n USING (id)
        WHERE (o.search_name, o.territory_id, o.anonymised_at IS NULL)
              IS DISTINCT FROM (n.search_name, n.territory_id, n.anonymised_at IS NULL));
    IF cardinality(changed) = 0 THEN
        RETURN NULL;
    END IF;
    DELETE FROM person_name_words WHERE person_id = ANY(changed);
    INSERT INTO person_name_words (word, person_id, territory_id)
    SELECT w, n.id, n.territory_id
    FROM new_rows n, unnest(parcours_words(n.search_name)) w
    WHERE n.id = ANY(changed) AND n.anonymised_at IS NULL;
    PERFORM parcours_name_words_count(
        ARRAY(SELECT w FROM new_rows n, unnest(parcours_words(n.search_name)) w
              WHERE n.id = ANY(changed) AND n.anonymised_at IS NULL),
        ARRAY(SELECT w FROM old_rows o, unnest(parcours_words(o.search_name)) w
              WHERE o.id = ANY(changed) AND o.anonymised_at IS NULL));
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

-- The words' rows go with the person (ON DELETE CASCADE); the counts here.
CREATE FUNCTION parcours_persons_deleted() RETURNS trigger AS $$
BEGIN
    PERFORM parcours_name_words_count(
        '{}',
        ARRAY(SELECT w FROM old_rows o, unnest(parcours_words(o.search_name)) w
              WHERE o.anonymised_at IS NULL));
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER persons_name_words_inserted AFTER INSERT ON persons
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parcours_persons_inserted();
CREATE TRIGGER persons_name_words_updated AFTER UPDATE ON persons
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parcours_persons_updated();
CREATE TRIGGER persons_name_words_deleted AFTER DELETE ON persons
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parcours_persons_deleted();

-- The k persons of `territories` whose names best match `query`, best
-- first. Each typed word (the first five) is matched to the words of a
-- name by trigram similarity, accents and case folded: a word matches if
-- it is similar to one (similarity >= 0.3, a typo) or found in one
-- (word similarity >= 0.6, a prefix such as « mar » in « martin »); a
-- person's score is the mean, over the typed words, of the best match
-- (1 for the same word). A person matches only if every typed word does.
-- A typed word's variants are its 200 closest dictionary words.
-- Ties: the commoner word first, then the earliest record.
--
-- The typed word that fewest persons match drives: its variants are read
-- best first; before each, the search stops if k persons already score at
-- least as much as any person reached from it could
-- ((similarity + n - 1) / n for n typed words).
CREATE FUNCTION parcours_search_persons(query text, territories uuid[], k integer)
RETURNS TABLE (person_id uuid, score double precision, rank integer) AS $$
DECLARE
    typed text[] := (parcours_words(parcours_fold(query)))[1:5];
    n integer := coalesce(cardinality(typed), 0);
    others text[];
    other_words text[];
    other_sims double precision[];
    other_of bigint[];
    matched_others bigint;
    driving text;
    v record;
    ids uuid[] := '{}';
    scores double precision[] := '{}';
    ords integer[] := '{}';
    step integer := 0;
BEGIN
    IF n = 0 OR k <= 0 OR cardinality(territories) = 0 THEN
        RETURN;
    END IF;
    SELECT q.w INTO driving
    FROM unnest(typed) WITH ORDINALITY AS q(w, i)
    ORDER BY (SELECT coalesce(sum(d.persons), 0) FROM name_words d
              WHERE q.w <% d.word OR q.w % d.word), q.i
    LIMIT 1;
    others := array_remove(typed, driving);
    -- The variants of the other typed words, with their similarity; a
    -- typed word without any leaves no one matching every word.
    SELECT array_agg(d.word), array_agg(d.sim), array_agg(q.j), count(DISTINCT q.j)
    INTO other_words, other_sims, other_of, matched_others
    FROM unnest(others) WITH ORDINALITY AS q(w, j),
    LATERAL (SELECT nw.word, greatest(similarity(q.w, nw.word), word_similarity(q.w, nw.word)) AS sim
             FROM name_words nw
             WHERE q.w <% nw.word OR q.w % nw.word
             ORDER BY sim DESC, nw.persons DESC, nw.word
             LIMIT 200) d;
    IF matched_others < n - 1 THEN
        RETURN;
    END IF;

    FOR v IN
        SELECT d.word, d.persons,
               greatest(similarity(driving, d.word), word_similarity(driving, d.word)) AS sim
        FROM name_words d
        WHERE driving <% d.word OR driving % d.word
        ORDER BY sim DESC, d.persons DESC, d.word
        LIMIT 200
    LOOP
        step := step + 1;
        EXIT WHEN cardinality(ids) >= k
            AND scores[k] >= (v.sim + n - 1) / n;
        IF n = 1 THEN
            -- Everyone reached from this variant scores its similarity.
            SELECT ids || coalesce(array_agg(found.person_id ORDER BY found.person_id), '{}'),
                   scores || array_fill(v.sim, ARRAY[count(*)::integer]),
                   ords || array_fill(step, ARRAY[count(*)::integer])
            INTO ids, scores, ords
            FROM (SELECT pw.person_id FROM person_name_words pw
                  WHERE pw.word = v.word AND pw.territory_id = ANY(territories)
                    AND pw.person_id <> ALL(ids)
                  ORDER BY pw.person_id
                  LIMIT k - cardinality(ids)) found;
            CONTINUE;
        END IF;
        -- A common word: first those whose other words are all typed
        -- exactly (the best this variant can give), which may be enough.
        IF v.persons > 2000 THEN
            SELECT ids || coalesce(array_agg(found.person_id ORDER BY found.person_id), '{}'),
                   scores || array_fill((v.sim + n - 1) / n, ARRAY[count(*)::integer]),
                   ords || array_fill(step, ARRAY[count(*)::integer])
            INTO ids, scores, ords
            FROM (SELECT pw.person_id FROM person_name_words pw
                  WHERE pw.word = v.word AND pw.territory_id = ANY(territories)
                    AND pw.person_id <> ALL(ids)
                    AND (SELECT count(*) FROM person_name_words o
                         WHERE o.person_id = pw.person_id AND o.word = ANY(others)) = n - 1
                  ORDER BY pw.person_id
                  LIMIT k) found;
        END IF;
        IF cardinality(ids) < k THEN
            -- Then the others: each of their words that is a variant of an
            -- other typed word counts its similarity (one hash of the
            -- variants, one index probe a person).
            SELECT ids || coalesce(array_agg(s.person_id), '{}'),
                   scores || coalesce(array_agg(s.score), '{}'),
                   ords || array_fill(step, ARRAY[count(*)::integer])
            INTO ids, scores, ords
            FROM (WITH reached AS MATERIALIZED (
                      SELECT pw.person_id FROM person_name_words pw
                      WHERE pw.word = v.word AND pw.territory_id = ANY(territories)
                        AND pw.person_id <> ALL(ids))
                  SELECT m.person_id, (v.sim + sum(m.best)) / n AS score
                  FROM (SELECT o.person_id, x.j, max(x.sim) AS best
                        FROM reached
                        JOIN person_name_words o ON o.person_id = reached.person_id
                        JOIN unnest(other_words, other_sims, other_of) AS x(word, sim, j)
                             ON x.word = o.word
                        GROUP BY o.person_id, x.j) m
                  GROUP BY m.person_id
                  HAVING count(*) = n - 1) s;
        END IF;
        -- Keep the k best.
        SELECT array_agg(t.id ORDER BY t.score DESC, t.ord, t.id),
               array_agg(t.score ORDER BY t.score DESC, t.ord, t.id),
               array_agg(t.ord ORDER BY t.score DESC, t.ord, t.id)
        INTO ids, scores, ords
        FROM (SELECT * FROM unnest(ids, scores, ords) AS u(id, score, ord)
              ORDER BY u.score DESC, u.ord, u.id LIMIT k) t;
        ids := coalesce(ids, '{}');
        scores := coalesce(scores, '{}');
        ords := coalesce(ords, '{}');
    END LOOP;
    RETURN QUERY
        SELECT u.id, u.score, u.r::integer
        FROM unnest(ids, scores) WITH ORDINALITY AS u(id, score, r);
END
$$ LANGUAGE plpgsql STABLE
SET pg_trgm.similarity_threshold = 0.3
SET pg_trgm.word_similarity_threshold = 0.6;

-- The persons already there.
INSERT INTO person_name_words (word, person_id, territory_id)
SELECT w, p.id, p.territory_id
FROM persons p, unnest(parcours_words(p.search_name)) w
WHERE p.anonymised_at IS NULL;
INSERT INTO name_words (word, persons)
SELECT word, count(*) FROM person_name_words GROUP BY word;
