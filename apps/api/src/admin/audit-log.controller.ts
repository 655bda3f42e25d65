import { AuditLogPageView, AuditLogQueryDto, AuditLogService, Roles } from '@kepu/auth';
import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated } from '../api-responses.decorator';

@ApiTags('operations')
@ApiAuthenticated()
@Controller('admin/audit-log')
export class AuditLogController {
  constructor(private readonly auditLog: AuditLogService) {}

  @Get()
  @Roles('city_admin')
  @ApiOperation({ summary: 'Administrative actions (accounts, departments, organisations, volunteers, lockouts), newest first; ?action=user.created filters' })
  @ApiOkResponse({ type: AuditLogPageView })
  list(@Query() query: AuditLogQueryDto): Promise<AuditLogPageView> {
    return this.auditLog.list(query);
  }
}
