import { NOTIFICATION_RULES, titleOf } from './notification-rules';
import { slaDueAt, slaHoursFor } from './sla';

const HOURS = { dispatch: 24, claim: 48, accept: 72, schedule: 72 };

describe('urgent deadlines (应急科普)', () => {
  it('every stage of an urgent order gets SLA_URGENT_FACTOR of the normal hours; an ordinary order keeps them', () => {
    expect(slaHoursFor(HOURS, true, 0.25)).toEqual({ dispatch: 6, claim: 12, accept: 18, schedule: 18 });
    expect(slaHoursFor(HOURS, false, 0.25)).toBe(HOURS);
    const entered = new Date('2027-03-01T00:00:00Z');
    expect(slaDueAt(entered, 'claim', slaHoursFor(HOURS, true, 0.25))).toEqual(new Date('2027-03-01T12:00:00Z'));
  });
});

describe('the steering notifications', () => {
  const facts = (side: string) => ({ orderCode: 'KP20270301000001', orderTitle: '防诈骗讲座', text: { side }, reason: '超时未领单' });

  it('order.reassigned tells each department its side of the move, with the reason', () => {
    const rule = NOTIFICATION_RULES['order.reassigned']!;
    expect(rule.recipients).toEqual(['department_staff']);
    expect(titleOf(rule, facts('to'))).toBe('协调员改派订单待领取');
    expect(rule.body(facts('to'))).toContain('改派给本部门');
    expect(titleOf(rule, facts('from'))).toBe('订单已由协调员改派');
    expect(rule.body(facts('from'))).toContain('本部门无需继续处理');
    expect(rule.body(facts('from'))).toContain('原因：超时未领单');
  });

  it('order.urgent goes to the district coordinators at once, quiet hours or not', () => {
    expect(NOTIFICATION_RULES['order.urgent']).toMatchObject({ recipients: ['district_coordinators'], isUrgent: true });
  });
});
