import { ApiErrors } from '../common/errors/api-errors.decorator';
import { Controller, Get, Query, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '../common/http/api-docs';
import { RequireScopes, TiledCompatible } from '../common/auth/decorators';
import { AppError } from '../common/errors/app-error';
import type { LatchkeyRequest } from '../common/http/request-context';
import { apiBase } from '../common/http/base-url';
import { AppConfig, InjectConfig } from '../config/app.config';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 300;
const MAX_OFFSET = 1_000_000_000;

/**
 * A consumer of Latchkey's guards, as any other Nest module would be: it imports nothing from
 * the auth feature modules, only decorators from `common/auth`. It serves the Tiled metadata
 * root as an empty container, which is what the Tiled client reads after logging in to an
 * auth-only server, and the root's search as an empty page (what `repr`, `list` and `len` of
 * that client read); every other path is 404 (after the scope check).
 */
@ApiTags('metadata')
@TiledCompatible()
@RequireScopes('read:metadata')
@Controller()
export class MetadataController {
  constructor(@InjectConfig() private readonly config: AppConfig) {}

  @Get('metadata')
  @ApiOkResponse({ description: 'The root node: an empty container' })
  @ApiOperation({ summary: 'The metadata root: an empty container (Tiled)', description: 'What the Tiled client reads after logging in to an auth-only server.' })
  root(@Req() req: LatchkeyRequest) {
    const base = apiBase(req, this.config.publicUrl, this.config.trustProxy);
    const self = `${base}/metadata/`;
    return {
      data: {
        id: '',
        attributes: {
          ancestors: [],
          structure_family: 'container',
          specs: [],
          metadata: {},
          structure: { contents: null, count: 0 },
          access_blob: {},
          sorting: null,
          data_sources: null,
        },
        links: { self, search: `${base}/search/` },
        meta: null,
      },
      error: null,
      links: null,
      meta: {},
    };
  }

  @Get('metadata/*')
  @ApiOperation({ summary: 'A metadata node below the root: there is none' })
  @ApiErrors('NOT_FOUND')
  node(@Req() req: LatchkeyRequest): never {
    throw noSuchEntry(req.params['*']);
  }

  /**
   * The root's children, one page at a time, in Tiled's shape: none here. The Python client
   * sends `fields=`, `sort=`, `filter[…]` and `page[…]` parameters; the paging ones are checked
   * (422 when malformed), the others are read as Tiled reads them and match nothing.
   */
  @Get('search')
  @ApiQuery({ name: 'page[offset]', required: false, schema: { type: 'integer', minimum: 0, maximum: MAX_OFFSET, default: 0 } })
  @ApiQuery({ name: 'page[limit]', required: false, schema: { type: 'integer', minimum: 0, maximum: MAX_LIMIT, default: DEFAULT_LIMIT } })
  @ApiQuery({ name: 'fields', required: false, schema: { type: 'string' }, description: 'Which parts of each entry to include (e.g. `count`, or empty)' })
  @ApiQuery({ name: 'sort', required: false, schema: { type: 'string' } })
  @ApiOkResponse({ description: 'A page of the root\'s children (`data`), with paging `links` and `meta.count`' })
  @ApiOperation({ summary: 'Search the root\'s children: an empty page (Tiled)', description: 'The paging parameters are checked (422 when malformed); `fields`, `sort` and `filter[…]` are read as Tiled reads them and match nothing.' })
  search(@Query() query: Record<string, unknown>, @Req() req: LatchkeyRequest) {
    const { offset, limit } = tiledPage(query);
    const base = apiBase(req, this.config.publicUrl, this.config.trustProxy);
    return { data: [], error: null, links: pageLinks(`${base}/search/`, offset, limit, 0), meta: { count: 0 } };
  }

  @Get('search/*')
  @ApiOperation({ summary: 'Search below a node: there is none' })
  @ApiErrors('NOT_FOUND')
  searchNode(@Req() req: LatchkeyRequest): never {
    throw noSuchEntry(req.params['*']);
  }
}

/** `path` is what the route's wildcard matched (`a/b/c`). */
function noSuchEntry(path: string | undefined): AppError {
  const name = (path ?? '').replace(/\/+$/, '');
  return new AppError('NOT_FOUND', `No such entry: /${name.slice(0, 200)}`);
}

/**
 * `page[offset]` (≥ 0) and `page[limit]` (0–300, default 100), as Tiled reads them; anything else
 * (a sign, a decimal, a repeated parameter) is a 422 in the shape of the other routes' validation
 * errors (`errors: [{field, message}]`). Other parameters are not Latchkey's to judge: ignored.
 */
function tiledPage(query: Record<string, unknown>): { offset: number; limit: number } {
  const errors: { field: string; message: string }[] = [];
  const read = (field: string, fallback: number, max: number): number => {
    const raw = query[field];
    if (raw === undefined || raw === '') return fallback;
    const value = typeof raw === 'string' && /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
    if (value <= max) return value;
    errors.push({ field, message: `${field} must be an integer from 0 to ${max}` });
    return fallback;
  };
  const page = { offset: read('page[offset]', 0, MAX_OFFSET), limit: read('page[limit]', DEFAULT_LIMIT, MAX_LIMIT) };
  if (errors.length) throw new AppError('VALIDATION_FAILED', `Invalid request: ${errors.map((e) => e.message).join('; ')}`, { errors });
  return page;
}

/** Tiled's paging links (tiled.server.links.pagination_links): next/prev only where there is such a page. */
function pageLinks(url: string, offset: number, limit: number, count: number) {
  const at = (o: number) => `${url}?page[offset]=${o}&page[limit]=${limit}`;
  return {
    self: at(offset),
    first: limit ? at(0) : null,
    last: limit ? at(Math.floor(Math.max(count - 1, 0) / limit) * limit) : null,
    next: offset + limit < count ? at(offset + limit) : null,
    prev: offset > 0 ? at(Math.max(0, offset - limit)) : null,
  };
}
