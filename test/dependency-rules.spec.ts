import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const CONFIG = path.join(ROOT, '.dependency-cruiser.js');
const FIXTURE = path.join(ROOT, 'test/fixtures/dependency-rules');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** Runs `depcruise` as `npm run lint:deps` does, in `cwd`, and returns what it found. */
function cruise(cwd: string): { status: number | null; violations: Violation[] } {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'), 'apps', 'libs', 'test', '--config', CONFIG, '--output-type', 'json'], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (!result.stdout) throw new Error(`depcruise printed nothing: ${result.stderr}`);
  const report = JSON.parse(result.stdout) as { summary: { violations: Violation[] } };
  return { status: result.status, violations: report.summary.violations };
}

describe('dependency rules (.dependency-cruiser.js)', () => {
  it('hold for the real tree', () => {
    const { status, violations } = cruise(ROOT);
    expect(violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
    expect(status).toBe(0);
  });

  it('each fires on its planted violation in test/fixtures/dependency-rules', () => {
    const { violations } = cruise(FIXTURE);
    const fired = (rule: string) => violations.filter((v) => v.rule.name === rule).map((v) => `${v.from} → ${v.to}`);
    expect(fired('core-imports-nothing-of-ours')).toEqual(['libs/core/src/index.ts → libs/db/src/index.ts']);
    expect(fired('core-without-frameworks')).toEqual([expect.stringMatching(/^libs\/core\/src\/index\.ts → .*node_modules\/@nestjs\/typeorm\//)]);
    expect(fired('no-circular').length).toBeGreaterThan(0);
    expect(fired('no-deep-kepu-import')).toEqual(['libs/orders/src/orders.service.ts → libs/auth/src/password.ts']);
    expect(fired('no-deep-relative-library-import-between-libs')).toEqual(['libs/orders/src/orders.service.ts → libs/auth/src/password.ts']);
    expect(fired('no-deep-relative-library-import-from-apps')).toEqual(['apps/api/src/main.ts → libs/db/src/data-source.ts']);
    expect(fired('libs-never-import-apps')).toEqual(['libs/orders/src/orders.service.ts → apps/api/src/main.ts']);
    expect(fired('db-imports-only-config')).toEqual(['libs/db/src/data-source.ts → libs/auth/src/index.ts']);
    expect(fired('production-code-never-imports-tests-or-benches')).toEqual(['libs/orders/src/orders.service.ts → test/support/oracle.ts']);
  });
});
