import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditEvent } from './audit-event.entity';
import { AuditRetentionService } from './audit-retention.service';
import { AuditController } from './audit.controller';
import { AuditService } from './audit.service';

/** The audit log. Global: any module records events with `AuditService.record()`. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AuditEvent])],
  controllers: [AuditController],
  providers: [AuditService, AuditRetentionService],
  exports: [AuditService],
})
export class AuditModule {}
