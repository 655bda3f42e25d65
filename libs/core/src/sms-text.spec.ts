import { SMS_FACT_MAX_LENGTH, SMS_TEXT_MAX_LENGTH, smsFacts, smsSafe } from './sms-text';

describe('SMS-safe texts', () => {
  it.each([
    ['访问 https://evil.example/x?a=1 领奖', '访问 [链接] 领奖'],
    ['点击http://t.cn/abc，立即领取', '点击[链接]，立即领取'],
    ['www.example.com 有惊喜', '[链接] 有惊喜'],
    ['加我 evil-site.cn/pay 退款', '加我 [链接] 退款'],
    ['evil.com', '[链接]'],
    ['ＷＷＷ．ＥＸＡＭＰＬＥ．ＣＯＭ', '[链接]'],
    ['example。com/abc', '[链接]'],
    ['打开 weixin://dl/business 或 mailto:a@b.cn', '打开 [链接] 或 [链接]'],
    ['javascript:alert(1)', '[链接]'],
    ['服务器 10.0.0.1:8080/x', '服务器 [链接]'],
    ['第一行\n第二行\r\n\t第三行\u202e反转\u200b', '第一行 第二行 第三行 反转'],
    ['老年人防诈骗讲座（社区活动室）', '老年人防诈骗讲座（社区活动室）'],
    ['版本 3.5 的讲座, 14:00 开始', '版本 3.5 的讲座, 14:00 开始'],
  ])('%j → %j', (input, expected) => {
    expect(smsSafe(input, SMS_TEXT_MAX_LENGTH, true)).toBe(expected);
  });

  it('bounds the length, cutting with …, by characters not UTF-16 units', () => {
    expect(Array.from(smsSafe('讲'.repeat(500))).length).toBe(SMS_TEXT_MAX_LENGTH);
    expect(smsSafe('讲'.repeat(500)).endsWith('…')).toBe(true);
    expect(Array.from(smsSafe('😀'.repeat(50), 10))).toHaveLength(10);
  });

  it('makes the user-written facts safe and short, keeps the system ones', () => {
    const facts = smsFacts({
      orderCode: 'KP-20261205-0001',
      orderTitle: `防诈骗讲座 https://phish.example/login ${'长'.repeat(100)}`,
      reason: '详见 bit.ly/xyz',
      text: { code: '482913', organizationName: '海淀科普志愿服务队' },
      when: '12月5日 14:00',
    });
    expect(facts.orderCode).toBe('KP-20261205-0001');
    expect(facts.when).toBe('12月5日 14:00');
    expect(facts.orderTitle.startsWith('防诈骗讲座 [链接] 长')).toBe(true);
    expect(Array.from(facts.orderTitle)).toHaveLength(SMS_FACT_MAX_LENGTH);
    expect(facts.reason).toBe('详见 [链接]');
    expect(facts.text).toEqual({ code: '482913', organizationName: '海淀科普志愿服务队' });
    expect(smsFacts({ orderCode: '', orderTitle: '', text: {}, reason: null }).reason).toBeNull();
  });
});
