import { Module } from '@nestjs/common';
import { HttpMetrics } from './http-metrics';
import { MetricsController } from './metrics.controller';

/** `/metrics` and the per-request HTTP metrics (the middleware is installed by configureApp). */
@Module({ controllers: [MetricsController], providers: [HttpMetrics], exports: [HttpMetrics] })
export class MetricsModule {}
