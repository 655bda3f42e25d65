import type { IdempotentOutcome } from '@kepu/orders';
import type { FastifyReply } from 'fastify';

/** A replayed Idempotency-Key answers with the first response's status and body. */
export function sendIdempotent<T>(reply: FastifyReply, outcome: IdempotentOutcome<T>): unknown {
  if (!outcome.replayed) {
    void reply.status(201);
    return outcome.result;
  }
  void reply.status(outcome.status).header('idempotent-replayed', 'true');
  return outcome.body;
}
