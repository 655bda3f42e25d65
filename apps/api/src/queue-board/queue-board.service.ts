import { TokenService } from '@kepu/auth';
import { AppConfig } from '@kepu/config';
import { QUEUES } from '@kepu/notifications';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { queueBoardAuthHook } from './queue-board.auth';

export const QUEUE_BOARD_PATH = '/admin/queues';

type BoardServerAdapter = Parameters<typeof createBullBoard>[0]['serverAdapter'];

/**
 * Bull Board for the three queues, mounted on the Fastify instance under
 * /admin/queues. Works on either queue backend: the BullMQ adapter reads
 * queues through BullMQ, and shows PostgreSQL server stats instead of Redis'.
 */
@Injectable()
export class QueueBoard implements OnModuleInit {
  private readonly queues: Queue[];

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly tokens: TokenService,
    private readonly config: AppConfig,
    @InjectQueue(QUEUES.notifications) notifications: Queue,
    @InjectQueue(QUEUES.deliveries) deliveries: Queue,
    @InjectQueue(QUEUES.timers) timers: Queue,
    @InjectQueue(QUEUES.coverage) coverage: Queue,
    @InjectQueue(QUEUES.broadcasts) broadcasts: Queue,
  ) {
    this.queues = [notifications, deliveries, timers, coverage, broadcasts];
  }

  onModuleInit(): void {
    const serverAdapter = new FastifyAdapter().setBasePath(QUEUE_BOARD_PATH);
    createBullBoard({
      queues: this.queues.map((queue) => new BullMQAdapter(queue)),
      // @bull-board/fastify 9.10.1 (its latest) pins @bull-board/api 9.10.1 beside our 9.10.2: the same
      // adapter interface, but TypeScript sees two declarations of the adapters' private fields.
      serverAdapter: serverAdapter as unknown as BoardServerAdapter,
      options: { uiConfig: { boardTitle: 'Kepu Dispatch queues' } },
    });
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // An encapsulated context: the hook guards the board's routes and nothing else.
    void fastify.register(
      async (board) => {
        board.addHook('onRequest', queueBoardAuthHook(this.tokens, QUEUE_BOARD_PATH, { secureCookie: this.config.nodeEnv === 'production' }));
        await board.register(serverAdapter.registerPlugin());
      },
      { prefix: QUEUE_BOARD_PATH },
    );
  }
}
