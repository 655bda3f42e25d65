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
