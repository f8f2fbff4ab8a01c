import type { Express, Request, Response } from 'express';
import { createServiceApp, type ServiceApp } from '../common/app-factory.js';
import { pingDatabase, type Pool } from '../common/db/pool.js';
import type { HealthCheck } from '../common/health.js';
import { badRequest, HttpError, notFound, validate } from '../common/http-errors.js';
import type { Logger } from '../common/logger.js';
import { IDEMPOTENCY_HEADER, readIdempotencyKey } from './idempotency.js';
import { DEFAULT_BATCHING, OrderBatcher, type BatchingOptions } from './order-batcher.js';
import { createOrderMetrics, type OrderMetrics } from './order-metrics.js';
import { findOrderById } from './orders-repository.js';
import { placeOrder, storedToView, type PlaceOrderOutcome } from './place-order.js';
import { readTestOrderFlag } from './test-order.js';
import { orderIdSchema, orderRequestSchema } from './validation.js';

export interface OrderDeps {
  pool: Pool;
  logger: Logger;
  /** Called after each committed order, so the relay publishes it without waiting for a poll. */
  onOrderCreated?: () => void;
  /** The broker check, non-critical: orders are accepted while it is away. */
  extraChecks?: HealthCheck[];
  batching?: BatchingOptions;
}

export interface OrderApp extends ServiceApp {
  metrics: OrderMetrics;
}

export function createOrderApp(deps: OrderDeps): OrderApp {
  const { pool } = deps;
  const batcher = new OrderBatcher(pool, deps.batching ?? DEFAULT_BATCHING);
  const insert = batcher.insert.bind(batcher);
  let metrics: OrderMetrics | undefined;
  const serviceApp = createServiceApp({
    service: 'order',
    logger: deps.logger,
    checks: [{ name: 'postgres', check: () => pingDatabase(pool) }, ...(deps.extraChecks ?? [])],
    routes: (app: Express, registry) => {
      const orderMetrics = createOrderMetrics(registry, pool, deps.logger);
      metrics = orderMetrics;

      app.get('/', (_req, res) => {
        res.json({
          service: 'order',
          endpoints: ['POST /create-order', 'POST /orders', 'GET /orders/:id'],
        });
      });

      const create = async (req: Request, res: Response) => {
        const idempotencyKey = readIdempotencyKey(req.headers['idempotency-key']);
        const test = readTestOrderFlag(req.headers['x-ecom-test-order']);
        const order = validate(orderRequestSchema, req.body, 'order');
        const outcome = await placeOrder(pool, order, idempotencyKey, test, insert);
        if (outcome.kind === 'created') {
          orderMetrics.created.inc();
          deps.onOrderCreated?.();
        }
        sendOutcome(res, outcome);
      };
      // Two registrations rather than an array, so each keeps its own route label.
      app.post('/create-order', create);
      app.post('/orders', create);

      app.get('/orders/:id', async (req, res) => {
        const id = validate(orderIdSchema, req.params.id, 'order id', 'id');
        const stored = await findOrderById(pool, id);
        if (!stored) throw notFound(`order ${id} does not exist`);
        res.json(storedToView(stored));
      });
    },
  });
  return { ...serviceApp, metrics: metrics! };
}

function sendOutcome(res: Response, outcome: PlaceOrderOutcome): void {
  switch (outcome.kind) {
    case 'created':
      res.status(201).location(`/orders/${outcome.order.id}`).json(outcome.order);
      return;
    case 'replayed':
      res.status(200).setHeader('Idempotent-Replayed', 'true');
      res.location(`/orders/${outcome.order.id}`).json(outcome.order);
      return;
    case 'unknown_products': {
      const details = outcome.lines.map((l) => ({ field: `items[${l.index}].productId`, message: `product ${l.productId} does not exist` }));
      throw badRequest(`invalid order: ${details.map((d) => d.field).join(', ')}`, details);
    }
    case 'key_reused':
      throw new HttpError(
        422,
        'idempotency_key_reused',
        `${IDEMPOTENCY_HEADER} was already used for a different order; use a new key for a new order`,
        [{ field: IDEMPOTENCY_HEADER, message: 'already used with a different request body' }],
      );
  }
}
