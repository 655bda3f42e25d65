/** 13812341234 → 138****1234: contact numbers are personal data (DESIGN.md §2). */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\s+/g, '');
  if (digits.length <= 7) return '*'.repeat(digits.length);
  return `${digits.slice(0, 3)}${'*'.repeat(digits.length - 7)}${digits.slice(-4)}`;
}

/** The requester, the order's community staff and the accepting organisation see the number in full. */
export function canSeeContactPhone(
  actor: { userId: string; role: string; communityCode: string | null; organizationId: string | null },
  order: { requesterId: string; communityCode: string; organizationId: string | null },
): boolean {
  return (
    actor.userId === order.requesterId ||
    (actor.role === 'community_staff' && actor.communityCode === order.communityCode) ||
    (actor.role === 'org_admin' && order.organizationId !== null && actor.organizationId === order.organizationId)
  );
}

/** A mainland China mobile number as accounts store it: 11 digits, 1[3-9]…, no country code. */
export const MAINLAND_MOBILE = /^1[3-9]\d{9}$/;

/** What the sign-up endpoints accept: the 11 digits, optionally after +86. */
export const MAINLAND_MOBILE_INPUT = /^(\+86)?1[3-9]\d{9}$/;

/** `+8613812341234` → `13812341234`; null for anything that is not a mainland mobile number. */
export function normalizeMainlandMobile(input: string): string | null {
  const digits = input.startsWith('+86') ? input.slice(3) : input;
  return MAINLAND_MOBILE.test(digits) ? digits : null;
}
