import fc from 'fast-check';
import { COMMON_PASSWORDS, PASSWORD_MIN_LENGTH, passwordPolicyViolations } from './password-policy';

describe('password policy', () => {
  it.each([
    ['kepu-admin-dev-1', 'admin'],
    ['admin-pass-1', 'admin'],
    ['resident-a1-pass-1', 'resident-a1'],
    ['pass-word-1', 'li.hong'],
    ['长城脚下的科普2027', 'wang'],
  ])('accepts %s for %s', (password, username) => {
    expect(passwordPolicyViolations(password, username)).toEqual([]);
  });

  it.each([
    ['short1', 'at least 10 characters'],
    ['only-letters-here', 'a letter and a digit'],
    ['1234567890123', 'a letter and a digit'],
    ['Password123', 'most common'],
    ['x'.repeat(199) + '12', 'at most 200'],
  ])('refuses %s (%s)', (password, reason) => {
    expect(passwordPolicyViolations(password, 'someone').join('; ')).toContain(reason);
  });

  it('refuses the username itself and the username with a short suffix, in any case', () => {
    expect(passwordPolicyViolations('Haidian.Staff1', 'haidian.staff1')).toEqual([expect.stringContaining('username')]);
    expect(passwordPolicyViolations('haidian.staff12345', 'haidian.staff')).toEqual([expect.stringContaining('username')]);
    expect(passwordPolicyViolations('haidian.staff-123456', 'haidian.staff')).toEqual([]);
  });

  it('every common password is refused whatever its case', () => {
    for (const common of COMMON_PASSWORDS) expect(passwordPolicyViolations(common.toUpperCase(), 'nobody')).not.toEqual([]);
  });

  it('property: anything shorter than the minimum is refused; a long password with a letter and a digit and no username is accepted', () => {
    fc.assert(fc.property(fc.string({ maxLength: PASSWORD_MIN_LENGTH - 1 }), (p) => passwordPolicyViolations(p).length > 0));
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{8,20}[0-9]{2,5}$/), (p) => !COMMON_PASSWORDS.has(p) ? passwordPolicyViolations(p, 'zz.user').length === 0 : true),
    );
  });
});
