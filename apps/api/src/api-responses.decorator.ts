import { isPersonAction, type OrderAction, RELATION_DESCRIPTIONS, type Role, rolesFor, TRANSITION_ERRORS, TRANSITIONS } from '@kepu/core';
import { applyDecorators } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiExtension,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { ProblemView } from './problem.view';

/** The error answers every authenticated endpoint may give, documented once. */
export const ApiAuthenticated = () =>
  applyDecorators(
    ApiBearerAuth(),
    ApiBadRequestResponse({ type: ProblemView, description: 'VALIDATION_FAILED' }),
    ApiUnauthorizedResponse({ type: ProblemView, description: 'UNAUTHENTICATED' }),
    ApiForbiddenResponse({ type: ProblemView, description: 'FORBIDDEN' }),
  );

/** A list answered as a bare array whose next page's cursor travels in the X-Next-Cursor response header. */
export const ApiNextCursor = () => ApiExtension(NEXT_CURSOR_EXTENSION, true);
/** Marks operations whose 200 answer carries X-Next-Cursor (documented by openapi.ts). */
export const NEXT_CURSOR_EXTENSION = 'x-kepu-next-cursor';

export const ApiScopedObject = () => ApiNotFoundResponse({ type: ProblemView, description: 'NOT_FOUND: absent or outside your scope' });

const withWhen = (codes: Readonly<Record<string, string>>): string[] => Object.entries(codes).map(([code, when]) => `${code}: ${when}`);

export interface TransitionDoc {
  summary: string;
  description: string;
  forbidden: string;
  conflict: string;
  /** `null`: the action breaks no business rule of its own, so there is no 422 to document. */
  unprocessable: string | null;
}

/**
 * The OpenAPI text of a transition endpoint, read from the lifecycle table and
 * TRANSITION_ERRORS in libs/core: the table's summary, who may act and from which
 * status to which, and the error codes the action can raise.
 */
export function transitionDoc(action: OrderAction): TransitionDoc {
  if (!isPersonAction(action)) throw new Error(`${action} is the worker's; it has no endpoint to document`);
  const rows = TRANSITIONS.filter((r) => r.action === action);
  const roles = rolesFor(action).filter((role): role is Role => role !== 'system');
  const moves = rows.map((r) => {
    const to = r.to ?? (r.from.length === 1 ? `${r.from[0]} (unchanged)` : 'the same status');
    return `- ${r.from.join(', ')} → ${to}: ${r.allowed.map((relation) => RELATION_DESCRIPTIONS[relation]).join(', or ')}`;
  });
  const errors = TRANSITION_ERRORS[action];
  const from = [...new Set(rows.flatMap((r) => r.from))].join(', ');
  return {
    summary: [...new Set(rows.map((r) => r.summary))].join('. '),
    description: `Roles allowed: ${roles.join(', ')}.\n\nStatus:\n${moves.join('\n')}`,
    forbidden: `FORBIDDEN: you see the order but may not ${action.replace('_', ' ')} it (allowed: ${roles.join(', ')}, as described)`,
    conflict: [
      `ORDER_STATE_CONFLICT: the order's status is not one this starts from (${from}), its version is not expectedVersion, or another request changed it first`,
      ...withWhen(errors.conflicts),
    ].join('; '),
    unprocessable: Object.keys(errors.rules).length > 0 ? withWhen(errors.rules).join('; ') : null,
  };
}

/** A lifecycle transition's operation summary, description and error answers, generated from libs/core. */
export const ApiTransition = (action: OrderAction) => {
  const doc = transitionDoc(action);
  return applyDecorators(
    ApiOperation({ summary: doc.summary, description: doc.description }),
    ApiForbiddenResponse({ type: ProblemView, description: doc.forbidden }),
    ApiScopedObject(),
    ApiConflictResponse({ type: ProblemView, description: doc.conflict }),
    ...(doc.unprocessable === null ? [] : [ApiUnprocessableEntityResponse({ type: ProblemView, description: doc.unprocessable })]),
  );
};
