import { Module } from '@nestjs/common';
import { HttpMetrics } from './http-metrics';
import { MetricsController } from './metrics.controller';
import { DeclareScopes } from '../common/auth/scope-catalog';

/** `/metrics` and the per-request HTTP metrics (watched by configureApp's first hook). */
@DeclareScopes({ metrics: 'Read the Prometheus metrics' })
@Module({ controllers: [MetricsController], providers: [HttpMetrics], exports: [HttpMetrics] })
export class MetricsModule {}
