import { AppConfig } from '@kepu/config';
import { isPersonAction, type OrderAction, TRANSITIONS } from '@kepu/core';
import { RateLimitService } from '@kepu/http';
import { OrdersService } from '@kepu/orders';
import { FulfilmentService, SchedulingService } from '@kepu/volunteers';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import { OrdersController } from './orders/orders.controller';
import { FulfilmentController } from './volunteers/fulfilment.controller';
import { SchedulingController } from './volunteers/scheduling.controller';

/** Where each action a person takes is served (API.md); the worker's close and expire have none. */
const ENDPOINTS: Partial<Record<OrderAction, string>> = {
  dispatch: '/orders/{id}/dispatch',
  reject: '/orders/{id}/reject',
  merge: '/orders/{id}/merge',
  claim: '/orders/{id}/claim',
  decline: '/orders/{id}/decline',
  offer: '/orders/{id}/offer',
  open: '/orders/{id}/open',
  accept: '/orders/{id}/accept',
  release: '/orders/{id}/release',
  schedule: '/orders/{id}/schedule',
  reschedule: '/orders/{id}/reschedule',
  check_in: '/orders/{id}/check-in',
  complete: '/orders/{id}/complete',
  rate: '/orders/{id}/rating',
  cancel: '/orders/{id}/cancel',
  reassign: '/orders/{id}/reassign',
};

interface Operation {
  summary?: string;
  description?: string;
  responses: Record<string, { description: string }>;
}

describe('transition endpoints are documented from the lifecycle table', () => {
  let doc: OpenAPIObject;
  const post = (path: string): Operation => doc.paths[path]?.post as Operation;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      controllers: [OrdersController, SchedulingController, FulfilmentController],
      // RateLimitService and AppConfig: what @LimitedWrite's interceptor needs
      providers: [OrdersService, SchedulingService, FulfilmentService, RateLimitService, AppConfig].map((service) => ({ provide: service, useValue: {} })),
    }).compile();
    const app = moduleRef.createNestApplication(new FastifyAdapter());
    doc = SwaggerModule.createDocument(app, new DocumentBuilder().build());
    await app.close();
  });

  it('every action a person takes has an endpoint', () => {
    const personActions = [...new Set(TRANSITIONS.map((r) => r.action))].filter(isPersonAction);
    expect(Object.keys(ENDPOINTS).sort()).toEqual(personActions.sort());
  });

  it.each(Object.entries(ENDPOINTS))('%s: the operation summary is the table\'s', (action, path) => {
    const summaries = TRANSITIONS.filter((r) => r.action === action).map((r) => r.summary);
    expect(post(path).summary).toBe(summaries.join('. '));
  });

  it('names the roles allowed and the statuses of claim, and answers 403/404/409 but no 422', () => {
    const claim = post('/orders/{id}/claim');
    expect(claim.description).toContain('Roles allowed: department_staff.');
    expect(claim.description).toContain('dispatched → claimed');
    expect(Object.keys(claim.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404', '409']));
    expect(claim.responses['403']?.description).toContain('department_staff');
    expect(claim.responses['409']?.description).toMatch(/^ORDER_STATE_CONFLICT/);
    expect(claim.responses['422']).toBeUndefined();
  });

  it('names every role of a two-row action and documents 422 only with codes the action raises', () => {
    const cancel = post('/orders/{id}/cancel');
    expect(cancel.description).toContain('Roles allowed: resident, community_staff.');
    expect(cancel.description).toContain('scheduled → cancelled');
    expect(post('/orders/{id}/dispatch').responses['422']?.description).toMatch(/^UNKNOWN_DEPARTMENT: .*; DEPARTMENT_NOT_SERVING_DISTRICT: /);
    expect(post('/orders/{id}/schedule').responses['409']?.description).toContain('VENUE_CONFLICT');
    const reassign = post('/orders/{id}/reassign');
    expect(reassign.description).toContain('Roles allowed: district_coordinator, city_admin.');
    expect(reassign.description).toContain('submitted, dispatched, claimed → dispatched');
    expect(reassign.responses['422']?.description).toContain('DEPARTMENT_NOT_SERVING_DISTRICT');
    for (const path of Object.values(ENDPOINTS))
      for (const response of Object.values(post(path).responses)) expect(response.description).not.toMatch(/^none$/i);
  });
});
