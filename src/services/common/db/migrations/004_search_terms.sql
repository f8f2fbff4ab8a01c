-- Type-ahead search (docs/architecture.md, "Search"). A GIN index answers `'l':*` only
-- by collecting every match into a bitmap, so a one-letter prefix cost grew with the
-- catalogue. This table holds each product's lexemes (stemmed like search_vector) in a
-- B-tree, ordered by where the word stands (name, category, description) and then
-- alphabetically: a prefix is a range scan that returns rows best first and stops after
-- `limit` of them, whatever the number of matches.
CREATE TABLE product_search_terms (
  term       text COLLATE "C" NOT NULL,
  product_id integer  NOT NULL,
  -- 0: the product's name has the word, 1: its category, 2: only its description.
  tier       smallint NOT NULL
);

-- The rows of one product: its distinct lexemes, each in the best tier it occurs in.
CREATE FUNCTION product_search_terms_of(vector tsvector, product integer)
RETURNS TABLE (term text, product_id integer, tier smallint)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT lexeme, product,
         CASE WHEN 'A' = ANY (weights) THEN 0 WHEN 'B' = ANY (weights) THEN 1 ELSE 2 END::smallint
  FROM unnest(vector)
$$;

-- Indexes after the backfill: building them once is several times faster than updating them per row.
INSERT INTO product_search_terms
SELECT t.* FROM products p, product_search_terms_of(p.search_vector, p.id) t;

-- The walk: one range scan per tier, in (term, product_id) order.
CREATE INDEX product_search_terms_walk_idx ON product_search_terms (tier, term, product_id);
-- Per product: "does this product also have a word starting with …" and the trigger's deletes.
CREATE INDEX product_search_terms_product_idx ON product_search_terms (product_id, term, tier);

-- Statement-level with transition tables: a 5,000-row seed batch is one set-based
-- insert here, not 5,000 trigger calls.
CREATE FUNCTION product_search_terms_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO product_search_terms
  SELECT t.* FROM new_rows n, product_search_terms_of(n.search_vector, n.id) t;
  RETURN NULL;
END $$;

-- Only products whose searchable text changed are rewritten (a price change is not).
CREATE FUNCTION product_search_terms_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM product_search_terms s USING old_rows o
  WHERE s.product_id = o.id
    AND NOT EXISTS (SELECT FROM new_rows n WHERE n.id = o.id AND n.search_vector = o.search_vector);
  INSERT INTO product_search_terms
  SELECT t.* FROM new_rows n, product_search_terms_of(n.search_vector, n.id) t
  WHERE NOT EXISTS (SELECT FROM old_rows o WHERE o.id = n.id AND o.search_vector = n.search_vector);
  RETURN NULL;
END $$;

CREATE FUNCTION product_search_terms_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM product_search_terms s USING old_rows o WHERE s.product_id = o.id;
  RETURN NULL;
END $$;

CREATE FUNCTION product_search_terms_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE product_search_terms;
  RETURN NULL;
END $$;

CREATE TRIGGER products_search_terms_insert AFTER INSERT ON products
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION product_search_terms_insert();
CREATE TRIGGER products_search_terms_update AFTER UPDATE ON products
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION product_search_terms_update();
CREATE TRIGGER products_search_terms_delete AFTER DELETE ON products
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION product_search_terms_delete();
CREATE TRIGGER products_search_terms_truncate AFTER TRUNCATE ON products
  FOR EACH STATEMENT EXECUTE FUNCTION product_search_terms_truncate();

-- Search no longer reads the GIN index, and every product write paid for it.
DROP INDEX products_search_idx;
