import { anyWindowsOverlap, type TimeWindow } from './time-window';

export interface DuplicateCandidate {
  id: string;
  topic: string;
  audience: string;
  preferredWindows: readonly TimeWindow[];
}

/** Likely duplicates: same topic and audience with overlapping preferred windows (DESIGN.md §3). */
export function findLikelyDuplicates(
  order: Omit<DuplicateCandidate, 'id'>,
  openOrdersOfCommunity: readonly DuplicateCandidate[],
): string[] {
  return openOrdersOfCommunity
    .filter((o) => o.topic === order.topic && o.audience === order.audience)
    .filter((o) => anyWindowsOverlap(o.preferredWindows, order.preferredWindows))
    .map((o) => o.id);
}
