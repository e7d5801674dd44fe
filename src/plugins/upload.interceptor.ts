import { CallHandler, createParamDecorator, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { LatchkeyRequest } from '../common/http/request-context';
import { PluginsService } from './plugins.service';
import { finalize, from, Observable, switchMap } from 'rxjs';
import { AppConfig, InjectConfig } from '../config/app.config';
import { PluginStorage, type IncomingFile } from './storage/plugin-storage';
import { readMultipart } from '../common/http/multipart';

/** The request of an upload route, once UploadInterceptor has read it. */
interface UploadRequest extends LatchkeyRequest {
  upload?: IncomingFile;
}

/** The uploaded file of an upload route (UploadInterceptor), or undefined when the form had none. */
export const UploadedPackage = createParamDecorator((_: unknown, context: ExecutionContext) => context.switchToHttp().getRequest<UploadRequest>().upload);

/**
 * Reads a multipart upload (one file in field `file`, small text fields) into the plugin
 * storage's incoming directory, bounded by MAX_UPLOAD_BYTES, and deletes the incoming file when
 * the request ends, whatever happened: a handler that keeps the file moves it away first.
 * Before reading a byte of the body it checks that the plugin exists and that the caller may
 * upload to it (a maintainer with write:plugins, or a deploy token of this plugin), so nothing
 * is written for anyone else. The text fields become the body.
 */
@Injectable()
export class UploadInterceptor implements NestInterceptor {
  private readonly maxBytes: number;

  constructor(
    private readonly storage: PluginStorage,
    private readonly plugins: PluginsService,
    @InjectConfig() config: AppConfig,
  ) {
    this.maxBytes = config.plugins.maxUploadBytes;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<UploadRequest>();
    const parsed = (async () => {
      const plugin = await this.plugins.getByName(String(req.params.package));
      await this.plugins.assertCanUpload(plugin, req.principal!);
      const form = await readMultipart(
        req,
        { files: 1, fields: 10, fieldSize: 64 * 1024, parts: 12 },
        {
          field: 'file',
          maxBytes: this.maxBytes,
          save: async (part) => (req.upload = await this.storage.receive(part.file, part.filename)),
        },
      );
      req.body = form?.fields;
    })();
    return from(parsed).pipe(
      switchMap(() => next.handle()),
      finalize(() => {
        if (req.upload) void this.storage.discard({ path: req.upload.path });
      }),
    );
  }
}
