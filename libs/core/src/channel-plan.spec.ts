import { planDeliveries } from './channel-plan';
import { NOTIFICATION_RULES, type NotificationRule } from './notification-rules';

const everything = { sms: true, email: true, wechat: true, isQuietHours: true, phone: '13812341234', emailAddress: 'a@b.cn', wechatOpenId: 'oABC123' };
const day = new Date('2026-11-28T02:00:00Z'); // 10:00 in Shanghai
const night = new Date('2026-11-28T15:30:00Z'); // 23:30 in Shanghai

describe('delivery plan', () => {
  it('one delivery per enabled channel with an address', () => {
    expect(planDeliveries(everything, false, day).map((d) => [d.channel, d.address])).toEqual([
      ['sms', '13812341234'],
      ['email', 'a@b.cn'],
      ['wechat', 'oABC123'],
    ]);
    expect(planDeliveries({ ...everything, email: false, phone: null }, false, day).map((d) => d.channel)).toEqual(['wechat']);
    expect(planDeliveries({ ...everything, sms: false, email: false, wechat: false }, true, day)).toEqual([]);
  });

  it('holds a non-urgent SMS at night until 07:00 Shanghai, and nothing else', () => {
    const plan = planDeliveries(everything, false, night);
    expect(plan.find((d) => d.channel === 'sms')?.notBefore).toEqual(new Date('2026-11-28T23:00:00Z'));
    expect(plan.find((d) => d.channel === 'email')?.notBefore).toEqual(night);
    expect(planDeliveries(everything, true, night).find((d) => d.channel === 'sms')?.notBefore).toEqual(night);
    expect(planDeliveries({ ...everything, isQuietHours: false }, false, night).find((d) => d.channel === 'sms')?.notBefore).toEqual(night);
  });
});

describe('notification rules', () => {
  it('cover the order notifications of API.md that the order lifecycle emits so far', () => {
    for (const type of [
      'order.submitted',
      'order.dispatched',
      'order.declined',
      'order.claimed',
      'order.offered',
      'order.opened',
      'order.accepted',
      'order.released',
      'order.rejected',
      'order.merged',
      'order.cancelled',
      'order.expired',
      'sla.breached',
    ])
      expect(NOTIFICATION_RULES[type]?.recipients.length).toBeGreaterThan(0);
  });

  const isAboutNoOrder = (rule: NotificationRule) => rule.recipients.some((r) => r === 'listed_users' || r === 'listed_phone');

  it('write the order code and title into every order message, and the reason when there is one', () => {
    for (const [type, rule] of Object.entries(NOTIFICATION_RULES)) {
      if (isAboutNoOrder(rule)) continue;
      const body = rule.body({ orderCode: 'KP20261128000001', orderTitle: '防诈骗讲座', reason: '人手不足', text: {} });
      // Residents told about a published event know it by its title; the order code is the officials' handle.
      if (!rule.recipients.every((r) => r === 'community_residents' || r === 'event_signups')) expect(body).toContain('KP20261128000001');
      expect(body).toContain('防诈骗讲座');
      if (['order.declined', 'order.released', 'order.rejected', 'order.cancelled'].includes(type)) expect(body).toContain('人手不足');
    }
  });

  it('write the payload facts into messages about no order', () => {
    const text = { code: '482913', organizationName: '海淀科技馆志愿服务队', applicantName: '王芳' };
    expect(NOTIFICATION_RULES['auth.phone_code']!.body({ orderCode: '', orderTitle: '', text })).toContain('482913');
    for (const type of ['volunteer_application.approved', 'volunteer_application.rejected', 'volunteer_application.submitted'])
      expect(NOTIFICATION_RULES[type]!.body({ orderCode: '', orderTitle: '', text, reason: '名额已满' })).toMatch(/海淀科技馆志愿服务队/);
    expect(NOTIFICATION_RULES['volunteer_application.rejected']!.body({ orderCode: '', orderTitle: '', text, reason: '名额已满' })).toContain('名额已满');
  });
});
