import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DependencyProbes } from './dependency-probes';
import { GracefulShutdown } from './graceful-shutdown';
import { HealthController } from './health.controller';

/**
 * `/health`, `/health/live`, `/health/ready` (terminus), and the graceful-shutdown gate
 * (installed by configureApp, triggered by main.ts). Terminus's own logging is off: readiness
 * logs its state changes once (HealthController), not every failed probe.
 */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [DependencyProbes, GracefulShutdown],
  exports: [GracefulShutdown],
})
export class HealthModule {}
