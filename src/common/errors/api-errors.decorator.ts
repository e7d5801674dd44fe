import { SetMetadata } from '@nestjs/common';
import type { ErrorCode } from './error-codes';

export const API_ERRORS = 'latchkey:api-errors';

/**
 * The domain errors a route may answer with, besides those its guards, pipes and body parsing
 * already imply (the OpenAPI document adds those itself: `common/http/openapi.ts`). Documentation
 * only: the codes appear in the route's error responses, grouped by HTTP status. Method or class
 * level (merged).
 */
export const ApiErrors = (...codes: ErrorCode[]) => SetMetadata(API_ERRORS, codes);
