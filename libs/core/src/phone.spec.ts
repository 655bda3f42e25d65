import { canSeeContactPhone, maskPhone, normalizeMainlandMobile } from './phone';

describe('contact phone masking', () => {
  it('keeps the first three and last four digits', () => {
    expect(maskPhone('13812341234')).toBe('138****1234');
    expect(maskPhone('+8613812341234')).toBe('+86*******1234');
    expect(maskPhone('1234567')).toBe('*******');
  });

  const order = { requesterId: 'u1', communityCode: '110108001001', organizationId: 'org-1' };
  const viewer = (userId: string, role: string, communityCode: string | null = null, organizationId: string | null = null) => ({
    userId,
    role,
    communityCode,
    organizationId,
  });

  it('shows the number to the requester, the community staff and the accepting organisation only', () => {
    expect(canSeeContactPhone(viewer('u1', 'resident', '110108001001'), order)).toBe(true);
    expect(canSeeContactPhone(viewer('u2', 'community_staff', '110108001001'), order)).toBe(true);
    expect(canSeeContactPhone(viewer('u3', 'org_admin', null, 'org-1'), order)).toBe(true);
    expect(canSeeContactPhone(viewer('u4', 'org_admin', null, 'org-2'), order)).toBe(false);
    expect(canSeeContactPhone(viewer('u5', 'community_staff', '110108002001'), order)).toBe(false);
    expect(canSeeContactPhone(viewer('u6', 'district_coordinator'), order)).toBe(false);
    expect(canSeeContactPhone(viewer('u7', 'city_admin'), order)).toBe(false);
    expect(canSeeContactPhone(viewer('u8', 'resident', '110108001001'), order)).toBe(false);
  });
});

describe('mainland mobile numbers', () => {
  it('keeps the 11 digits and drops +86', () => {
    expect(normalizeMainlandMobile('13812341234')).toBe('13812341234');
    expect(normalizeMainlandMobile('+8613812341234')).toBe('13812341234');
  });

  it.each(['12812341234', '1381234123', '138123412345', '+85213812341234', '8613812341234', '138-1234-1234', ''])('refuses %p', (input) => {
    expect(normalizeMainlandMobile(input)).toBeNull();
  });
});
