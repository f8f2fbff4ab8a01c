-- Test orders (docs/architecture.md, "Test orders"): placed with X-Ecom-Test-Order: true
-- (ecom smoke does), stored, published and consumed like any other order, and kept
-- out of the storefront's live feed.
ALTER TABLE orders ADD COLUMN test boolean NOT NULL DEFAULT false;
ALTER TABLE consumed_orders ADD COLUMN test boolean NOT NULL DEFAULT false;
-- The consumption lookup by order id (GET /api/orders/:id/consumed).
CREATE INDEX consumed_orders_order_idx ON consumed_orders (order_id);
