import { type Actor, coverageScope, edgePlan, NotFoundError, type Period, resolvePeriod, type ScorecardKind, scorecardFigures, type ScorecardSums } from '@kepu/core';
import { RegionsService } from '@kepu/regions';
import { Injectable } from '@nestjs/common';
import type { ScorecardQueryDto, ScorecardView } from './scorecards.dto';
import { ScorecardRepository, type SubjectSums } from './scorecard.repository';

/**
 * 三率 scorecards (DESIGN.md §10, README "Scorecards"): per department or
 * organisation over a period, from the scorecard rollups. city_admin sees the
 * city or one district; a district_coordinator its own district (another is 404).
 */
@Injectable()
export class ScorecardsService {
  /** As coverage: identical requests while one is computed share its answer; nothing is kept afterwards. */
  private readonly inFlight = new Map<string, Promise<ScorecardView[]>>();
  /** District codes: reference data only an import changes, kept a minute (as coverage's regions). */
  private districtCodes: { until: number; value: Promise<Set<string>> } | null = null;

  constructor(
    private readonly repository: ScorecardRepository,
    private readonly regions: RegionsService,
  ) {}

  async scorecards(actor: Actor, kind: ScorecardKind, query: ScorecardQueryDto, now = new Date()): Promise<ScorecardView[]> {
    const period = resolvePeriod(query, now);
    const scope = coverageScope(actor);
    const districtCode = query.districtCode ?? scope;
    if (districtCode !== null) {
      if (scope !== null && scope !== districtCode) throw new NotFoundError(`District ${districtCode} not found.`);
      if (!(await this.knownDistricts()).has(districtCode)) throw new NotFoundError(`District ${districtCode} not found.`);
    }
    const key = `${kind}|${districtCode ?? '*'}|${period.from}|${period.to}`;
    const running = this.inFlight.get(key);
    if (running) return running;
    const result = this.compute(kind, districtCode, period).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, result);
    return result;
  }

  private knownDistricts(): Promise<Set<string>> {
    if (this.districtCodes && this.districtCodes.until > Date.now()) return this.districtCodes.value;
    const value = this.regions.listDistricts().then((all) => new Set(all.map((d) => d.code)));
    this.districtCodes = { until: Date.now() + 60_000, value };
    void value.catch(() => (this.districtCodes = null));
    return value;
  }

  private async compute(kind: ScorecardKind, districtCode: string | null, period: Period): Promise<ScorecardView[]> {
    const code = kind === 'departments' ? 'd' : 'o';
    // Two independent reads at once: the figures and the subjects (with whether they are listed without figures).
    const [sums, subjects] = await Promise.all([this.repository.sums(code, districtCode, edgePlan(period)), this.repository.subjects(code, districtCode)]);
    const views: ScorecardView[] = [];
    for (const s of subjects) {
      const c = sums.get(s.id);
      // A subject outside the listed ones appears when it has figures in scope (e.g. a department of another district dispatched to here).
      if (!s.in_scope && !(c && hasFigures(c))) continue;
      views.push({ id: s.id, name: s.name, ...scorecardFigures(c?.sums ?? NO_SUMS, c?.hours ?? []) });
    }
    return views;
  }
}

const NO_SUMS: ScorecardSums = { received: 0, responded: 0, resolved: 0, rated: 0, ratingSum: 0, satisfied: 0 };

const hasFigures = (c: SubjectSums): boolean => Object.values(c.sums).some((v) => v !== 0) || c.hours.some((v) => v !== 0);
