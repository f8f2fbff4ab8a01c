-- Catalogue change notifications name the products that changed (docs/architecture.md,
-- "Search"), so the Elasticsearch index is kept in step by re-indexing those products
-- alone instead of the whole catalogue. Payload: {"op":"UPDATE","ids":[3]}; "ids" is
-- null when a statement changed more than 500 products (a NOTIFY payload must stay
-- under 8,000 bytes) or on TRUNCATE: listeners then re-read everything. The catalog's
-- page cache only needs to know that something changed and ignores the payload.
DROP TRIGGER products_changed ON products;
DROP FUNCTION notify_catalog_changed();

CREATE FUNCTION notify_catalog_changed_ids(op text, ids integer[]) RETURNS void LANGUAGE sql AS $$
  SELECT pg_notify('catalog_changed', json_build_object(
    'op', op,
    'ids', CASE WHEN cardinality(ids) <= 500 THEN to_json(ids) END
  )::text)
$$;

CREATE FUNCTION notify_catalog_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM notify_catalog_changed_ids(TG_OP, (SELECT COALESCE(array_agg(id ORDER BY id), '{}') FROM (SELECT id FROM new_rows LIMIT 501) s));
  RETURN NULL;
END $$;

-- A statement that changed nothing notifies an empty list. Old and new ids: an update may move a product to another id.
CREATE FUNCTION notify_catalog_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM notify_catalog_changed_ids(TG_OP, (
    SELECT COALESCE(array_agg(id ORDER BY id), '{}')
    FROM (SELECT id FROM (SELECT id FROM new_rows UNION SELECT id FROM old_rows) u LIMIT 501) s));
  RETURN NULL;
END $$;

CREATE FUNCTION notify_catalog_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM notify_catalog_changed_ids(TG_OP, (SELECT COALESCE(array_agg(id ORDER BY id), '{}') FROM (SELECT id FROM old_rows LIMIT 501) s));
  RETURN NULL;
END $$;

CREATE FUNCTION notify_catalog_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM notify_catalog_changed_ids(TG_OP, NULL);
  RETURN NULL;
END $$;

CREATE TRIGGER products_changed_insert AFTER INSERT ON products
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION notify_catalog_inserted();
CREATE TRIGGER products_changed_update AFTER UPDATE ON products
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION notify_catalog_updated();
CREATE TRIGGER products_changed_delete AFTER DELETE ON products
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION notify_catalog_deleted();
CREATE TRIGGER products_changed_truncate AFTER TRUNCATE ON products
  FOR EACH STATEMENT EXECUTE FUNCTION notify_catalog_truncated();
