import { applyDecorators } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
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

export const ApiScopedObject = () => ApiNotFoundResponse({ type: ProblemView, description: 'NOT_FOUND: absent or outside your scope' });

export const ApiTransitionErrors = (rules: string) =>
  applyDecorators(
    ApiScopedObject(),
    ApiConflictResponse({ type: ProblemView, description: 'ORDER_STATE_CONFLICT: state or version changed, or another claim/accept won' }),
    ApiUnprocessableEntityResponse({ type: ProblemView, description: rules }),
  );
