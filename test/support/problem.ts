import type { Response } from 'supertest';

/** What a test needs to know about one answer, in a form that prints well in a failed `toEqual`. */
export interface Outcome {
  status: number;
  code: string | undefined;
}

export const outcome = (res: Response): Outcome => ({ status: res.status, code: (res.body as { code?: string } | undefined)?.code });

/**
 * Everything wrong with an answer that should be an RFC 9457 problem with this
 * status and code (and, for a field error, naming `field` or one of its sub-fields);
 * empty when it is right. Tables of cases collect these so one failure names its case.
 */
export function problemMismatches(res: Response, status: number, code: string, field?: string): string[] {
  const body = res.body as { type?: unknown; title?: unknown; status?: unknown; detail?: unknown; code?: unknown; errors?: { field: string }[] };
  const found: string[] = [];
  if (res.status !== status) found.push(`status ${res.status}, expected ${status} (${JSON.stringify(body).slice(0, 300)})`);
  if (body?.code !== code) found.push(`code ${String(body?.code)}, expected ${code}`);
  if (!/^application\/problem\+json/.test(String(res.headers['content-type']))) found.push(`content-type ${String(res.headers['content-type'])}`);
  for (const member of ['type', 'title', 'detail'] as const) if (typeof body?.[member] !== 'string') found.push(`no ${member}`);
  if (body?.status !== res.status) found.push(`body.status ${String(body?.status)}`);
  if (JSON.stringify(body ?? {}).includes('    at ')) found.push('a stack trace');
  if (field !== undefined) {
    const fields = (body?.errors ?? []).map((e) => e.field);
    if (!fields.some((f) => f === field || f.startsWith(`${field}.`) || f.startsWith(`${field}[`)))
      found.push(`errors name ${JSON.stringify(fields)}, not ${field}`);
  }
  return found;
}

export function expectProblem(res: Response, status: number, code: string, field?: string): void {
  expect(problemMismatches(res, status, code, field)).toEqual([]);
}
