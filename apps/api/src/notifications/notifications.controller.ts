import { CurrentActor, Roles } from '@kepu/auth';
import type { Actor } from '@kepu/core';
import { UuidParamPipe } from '@kepu/http';
import {
  DeliveriesQueryDto,
  DeliveryPageView,
  InboxQueryDto,
  InboxService,
  NotificationPageView,
  NotificationPreferencesDto,
} from '@kepu/notifications';
import { Body, Controller, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAuthenticated, ApiScopedObject } from '../api-responses.decorator';

@ApiTags('notifications')
@ApiAuthenticated()
@Controller()
export class NotificationsController {
  constructor(private readonly inbox: InboxService) {}

  @Get('me/notifications')
  @ApiOkResponse({ type: NotificationPageView, description: 'Your in-app notifications, newest first' })
  list(@CurrentActor() actor: Actor, @Query() query: InboxQueryDto): Promise<NotificationPageView> {
    return this.inbox.list(actor, query);
  }

  @Post('me/notifications/:id/read')
  @HttpCode(200)
  @ApiOkResponse({ description: 'Marked read (idempotent)' })
  @ApiScopedObject()
  markRead(@CurrentActor() actor: Actor, @Param('id', UuidParamPipe) id: string): Promise<void> {
    return this.inbox.markRead(actor, id);
  }

  @Get('me/notification-preferences')
  @ApiOkResponse({ type: NotificationPreferencesDto })
  preferences(@CurrentActor() actor: Actor): Promise<NotificationPreferencesDto> {
    return this.inbox.preferences(actor);
  }

  @Put('me/notification-preferences')
  @ApiOkResponse({ type: NotificationPreferencesDto })
  savePreferences(@CurrentActor() actor: Actor, @Body() dto: NotificationPreferencesDto): Promise<NotificationPreferencesDto> {
    return this.inbox.savePreferences(actor, dto);
  }

  @Get('admin/deliveries')
  @Roles('city_admin')
  @ApiOperation({ summary: 'External deliveries (sms, email, wechat); ?status=failed lists the dead letters' })
  @ApiOkResponse({ type: DeliveryPageView })
  deliveries(@Query() query: DeliveriesQueryDto): Promise<DeliveryPageView> {
    return this.inbox.deliveries(query);
  }
}
