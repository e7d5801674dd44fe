import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { LatchkeyRequest } from '../common/http/request-context';
import { PluginsService } from './plugins.service';
import multer, { MulterError } from 'multer';
import { finalize, from, Observable, switchMap } from 'rxjs';
import { AppError } from '../common/errors/app-error';
import { AppConfig, InjectConfig } from '../config/app.config';
import { PluginStorage } from './plugin-storage';
import { MULTIPART_FIELD_NAME_BYTES } from '../common/http/json-depth';

/**
 * Reads a multipart upload (one file in field `file`, small text fields) into the plugin
 * storage's incoming directory, bounded by MAX_UPLOAD_BYTES, and deletes the incoming file when
 * the request ends, whatever happened: a handler that keeps the file moves it away first.
 * Before reading a byte of the body it checks that the plugin exists and that the caller may
 * upload to it (a maintainer with write:plugins, or a deploy token of this plugin), so nothing
 * is written for anyone else.
 */
@Injectable()
export class UploadInterceptor implements NestInterceptor {
  private readonly parse: (req: Request, res: Response, next: (error?: unknown) => void) => void;
  private readonly maxBytes: number;

  constructor(
    private readonly storage: PluginStorage,
    private readonly plugins: PluginsService,
    @InjectConfig() config: AppConfig,
  ) {
    this.maxBytes = config.plugins.maxUploadBytes;
    this.parse = multer({
      storage: storage.engine(),
      limits: { fileSize: this.maxBytes, files: 1, fields: 10, fieldSize: 64 * 1024, parts: 12, headerPairs: 100, fieldNameSize: MULTIPART_FIELD_NAME_BYTES },
    }).single('file');
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const req = http.getRequest<LatchkeyRequest>();
    const res = http.getResponse<Response>();
    const parsed = (async () => {
      const plugin = await this.plugins.getByName(String(req.params.package));
      await this.plugins.assertCanUpload(plugin, req.principal!);
      await new Promise<void>((resolve, reject) => {
        this.parse(req, res, (error?: unknown) => (error ? reject(this.translate(error)) : resolve()));
      });
    })();
    return from(parsed).pipe(
      switchMap(() => next.handle()),
      finalize(() => {
        if (req.file?.path) void this.storage.discard({ path: req.file.path });
      }),
    );
  }

  private translate(error: unknown): unknown {
    if (error instanceof MulterError) {
      if (error.code === 'LIMIT_FILE_SIZE') {
        return new AppError('PAYLOAD_TOO_LARGE', `The file is larger than ${this.maxBytes} bytes (MAX_UPLOAD_BYTES).`);
      }
      if (error.code === 'LIMIT_UNEXPECTED_FILE') {
        return new AppError('BAD_REQUEST', `Send one file, in the form field "file" (got "${String(error.field).slice(0, 64)}").`);
      }
      return new AppError('BAD_REQUEST', `The multipart body was refused: ${error.message}.`);
    }
    if (error instanceof Error && !(error instanceof AppError)) {
      // busboy: malformed multipart (bad boundary, truncated body, …)
      return new AppError('BAD_REQUEST', `The multipart body could not be read: ${error.message.slice(0, 200)}`);
    }
    return error;
  }
}
