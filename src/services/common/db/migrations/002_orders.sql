CREATE TABLE orders (
  id              uuid PRIMARY KEY,
  customer_email  text   NOT NULL,
  customer_name   text   NOT NULL,
  total_cents     bigint NOT NULL,
  -- Same key + same request_hash replays the order; same key + other hash is a 422.
  idempotency_key text UNIQUE,
  request_hash    text,
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE order_items (
  order_id         uuid    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  line             integer NOT NULL,
  product_id       integer NOT NULL,
  product_name     text    NOT NULL,
  unit_price_cents integer NOT NULL,
  quantity         integer NOT NULL CHECK (quantity BETWEEN 1 AND 100),
  PRIMARY KEY (order_id, line)
);

-- Written in the same transaction as the order; the relay publishes and marks rows.
CREATE TABLE outbox (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id     uuid  NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  payload      jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);

CREATE INDEX outbox_pending_idx ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX outbox_order_idx ON outbox (order_id);
