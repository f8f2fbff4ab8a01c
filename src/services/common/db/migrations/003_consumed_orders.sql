-- The frontend consumer's effect, keyed by AMQP message id so a redelivery is a no-op.
CREATE TABLE consumed_orders (
  message_id  text PRIMARY KEY,
  order_id    uuid,
  payload     jsonb NOT NULL,
  consumed_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX consumed_orders_recent_idx ON consumed_orders (consumed_at DESC);
