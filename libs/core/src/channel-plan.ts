import { endOfQuietHours } from './quiet-hours';

export type ExternalChannel = 'sms' | 'email' | 'wechat';

export interface ChannelChoice {
  sms: boolean;
  email: boolean;
  wechat: boolean;
  isQuietHours: boolean;
  phone: string | null;
  emailAddress: string | null;
  wechatOpenId: string | null;
}

export interface PlannedDelivery {
  channel: ExternalChannel;
  address: string;
  notBefore: Date;
}

/**
 * The external deliveries one recipient gets for one message: each channel they
 * enabled and have an address for. Quiet hours hold back non-urgent SMS only:
 * e-mail and WeChat do not ring at night.
 */
export function planDeliveries(choice: ChannelChoice, isUrgent: boolean, now: Date): PlannedDelivery[] {
  const planned: PlannedDelivery[] = [];
  if (choice.sms && choice.phone) {
    const quietUntil = choice.isQuietHours && !isUrgent ? endOfQuietHours(now) : null;
    planned.push({ channel: 'sms', address: choice.phone, notBefore: quietUntil ?? now });
  }
  if (choice.email && choice.emailAddress) planned.push({ channel: 'email', address: choice.emailAddress, notBefore: now });
  if (choice.wechat && choice.wechatOpenId) planned.push({ channel: 'wechat', address: choice.wechatOpenId, notBefore: now });
  return planned;
}
