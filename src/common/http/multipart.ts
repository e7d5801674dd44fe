import { CallHandler, ExecutionContext, Injectable, NestInterceptor, Type } from '@nestjs/common';
import { from, Observable, switchMap } from 'rxjs';
import { AppError } from '../errors/app-error';
import type { LatchkeyRequest } from './request-context';
import type { MultipartFile } from '@fastify/multipart';

/** Longest multipart field name: names are flat keys, and no field of ours is longer. */
const MAX_FIELD_NAME_BYTES = 64;

/** Bounds of a multipart body (busboy's limits; the file's size is the `file` argument's `maxBytes`). */
export interface MultipartLimits {
  files: number;
  fields: number;
  fieldSize: number;
  parts: number;
  fieldNameSize?: number;
  headerPairs?: number;
}

/**
 * Reads a `multipart/form-data` body (@fastify/multipart, on busboy) within `limits`: its text
 * fields, flat (a name is a plain key, `a[b]` included; a repeated name gives an array), and its
 * one file, in the form field `file.field`, handed to `file.save` as a stream. A file in another
 * field, or when none is taken, is refused, as is anything over the limits (413 for the file's
 * size, 400 otherwise); nothing is read for a body of another type (returns undefined).
 */
export async function readMultipart<F>(
  req: LatchkeyRequest,
  limits: MultipartLimits,
  file?: { field: string; maxBytes: number; save: (part: MultipartFile) => Promise<F> },
): Promise<{ fields: Record<string, string | string[]>; file?: F } | undefined> {
  if (!req.isMultipart()) return undefined;
  const fields: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  let saved: F | undefined;
  try {
    for await (const part of req.parts({ limits: { fieldNameSize: MAX_FIELD_NAME_BYTES, headerPairs: 100, ...limits, fileSize: file?.maxBytes ?? 0 } })) {
      if (part.type === 'file') {
        if (!file || part.fieldname !== file.field || saved !== undefined) {
          part.file.resume();
          throw file
            ? new AppError('BAD_REQUEST', `Send one file, in the form field "${file.field}" (got "${part.fieldname.slice(0, 64)}").`)
            : new AppError('BAD_REQUEST', 'This route takes no file.');
        }
        saved = await file.save(part);
        if (part.file.truncated) throw fileTooLarge(file.maxBytes);
      } else {
        // busboy cuts a name or a value at its limit and says so: refused, never taken cut.
        if (part.fieldnameTruncated) throw new AppError('BAD_REQUEST', 'The multipart body was refused: Field name too long.');
        if (part.valueTruncated) throw new AppError('BAD_REQUEST', `The multipart body was refused: Field value too long - ${part.fieldname.slice(0, 64)}.`);
        const value = typeof part.value === 'string' ? part.value : String(part.value);
        const prior = fields[part.fieldname];
        fields[part.fieldname] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
      }
    }
  } catch (error) {
    throw translate(error, file?.maxBytes);
  }
  return { fields, file: saved };
}

function fileTooLarge(maxBytes?: number): AppError {
  return new AppError('PAYLOAD_TOO_LARGE', `The file is larger than ${maxBytes} bytes (MAX_UPLOAD_BYTES).`);
}

function translate(error: unknown, maxBytes?: number): unknown {
  if (error instanceof AppError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') return fileTooLarge(maxBytes);
  if (code === 'FST_PARTS_LIMIT' || code === 'FST_FILES_LIMIT' || code === 'FST_FIELDS_LIMIT') {
    return new AppError('BAD_REQUEST', `The multipart body was refused: ${(error as Error).message}.`);
  }
  // busboy: malformed multipart (no boundary, truncated body, …)
  const message = error instanceof Error ? error.message.slice(0, 200) : 'malformed';
  return new AppError('BAD_REQUEST', `The multipart body could not be read: ${message}`);
}

/**
 * An interceptor that reads a multipart body of text fields (no file) into the body, within
 * `limits`, as `NoFilesInterceptor` of @nestjs/platform-express did; other bodies pass as parsed.
 */
export function MultipartFieldsInterceptor(limits: Omit<MultipartLimits, 'files'>): Type<NestInterceptor> {
  @Injectable()
  class FieldsInterceptor implements NestInterceptor {
    intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
      const req = context.switchToHttp().getRequest<LatchkeyRequest>();
      return from(readMultipart(req, { ...limits, files: 0 })).pipe(
        switchMap((form) => {
          if (form) req.body = form.fields;
          return next.handle();
        }),
      );
    }
  }
  return FieldsInterceptor;
}
