import { Logger } from '@nestjs/common';
import { LogProvider, maskAddress } from './channel-provider';
import type { DeliveryRow } from './notifications.repository';

const delivery = (channel: DeliveryRow['channel'], address: string): DeliveryRow => ({
  id: 'd1',
  user_id: 'u1',
  channel,
  address,
  type: 'order.dispatched',
  title: 't',
  body: 'b',
  order_id: null,
  status: 'pending',
  attempts: 0,
  last_error: null,
  not_before: new Date(0),
  created_at: new Date(0),
  finished_at: null,
});

describe('the log provider never logs a whole address', () => {
  afterEach(() => jest.restoreAllMocks());

  it('masks phone numbers, e-mail addresses and OpenIDs', () => {
    expect(maskAddress('sms', '13812341234')).toBe('138****1234');
    expect(maskAddress('email', 'wang.laoshi@example.cn')).toBe('w***@example.cn');
    expect(maskAddress('wechat', 'oAbCdEfGhIjK123')).toBe('oAbC***');
  });

  it.each([
    ['sms', '13812341234'],
    ['email', 'wang.laoshi@example.cn'],
    ['wechat', 'oAbCdEfGhIjK123'],
  ] as const)('logs a %s delivery without its address', async (channel, address) => {
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    await new LogProvider().send(delivery(channel, address));
    expect(log).toHaveBeenCalledTimes(1);
    expect(JSON.stringify(log.mock.calls)).not.toContain(address);
  });
});
