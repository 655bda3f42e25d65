import {
  type Actor,
  coverageFigures,
  coverageRatio,
  coverageScope,
  dayFromNumber,
  dayNumber,
  DEFAULT_GAP_DAYS,
  daysSince,
  gapCutoffDay,
  NotFoundError,
  type Period,
  resolvePeriod,
  rollupPlan,
  shanghaiDay,
  ValidationError,
  yearMasks,
} from '@kepu/core';
import { type Page } from '@kepu/http';
import { RegionsService } from '@kepu/regions';
import { Injectable } from '@nestjs/common';
import { coverageCsv } from './coverage-csv';
import type {
  CoverageGapsQueryDto,
  CoverageGapView,
  CoverageTrendQueryDto,
  CoverageTrendView,
  CoveragePeriodQueryDto,
  DistrictCoverageDetailView,
  DistrictCoverageView,
  SubdistrictCoverageView,
} from './coverage.dto';
import { CoverageRepository, type GapPosition } from './coverage.repository';

const DEFAULT_PAGE_SIZE = 20;
const DEFAULT_TREND_WEEKS = 12;
/** Regions are reference data that only an import changes: their names and community counts are kept this long. */
const REGIONS_TTL_MS = 60_000;

interface Region {
  code: string;
  name: string;
  communityCount: number;
}

function encodeGapCursor(position: GapPosition): string {
  return Buffer.from(`${position.lastServedAt?.toISOString() ?? ''}|${position.code}`, 'utf8').toString('base64url');
}

function decodeGapCursor(cursor: string): GapPosition {
  const [at, code] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const lastServedAt = at ? new Date(at) : null;
  if (!code || !/^\d{12}$/.test(code) || (lastServedAt !== null && Number.isNaN(lastServedAt.getTime())))
    throw new ValidationError('cursor: is not a cursor this API issued', [{ field: 'cursor', message: 'invalid cursor' }]);
  return { lastServedAt, code };
}

/**
 * Coverage for coordinators (DESIGN.md §6): city_admin sees every district,
 * a district_coordinator its own (another district is 404, as if absent).
 * Figures come from the rollups: a request reads regions × (months + a few Fenwick nodes)
 * rollup rows and the served-days bits of ~7.5k communities per year, never orders.
 */
@Injectable()
export class CoverageService {
  private readonly regionCache = new Map<string, { until: number; value: Promise<Region[]> }>();
  /** Figures being computed, by scope and period: identical requests meanwhile share the computation. */
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(
    private readonly repository: CoverageRepository,
    private readonly regions: RegionsService,
  ) {}

  private cachedRegions(key: string, load: () => Promise<Region[]>): Promise<Region[]> {
    const hit = this.regionCache.get(key);
    if (hit && hit.until > Date.now()) return hit.value;
    const value = load();
    this.regionCache.set(key, { until: Date.now() + REGIONS_TTL_MS, value });
    void value.catch(() => this.regionCache.delete(key));
    return value;
  }

  /**
   * Request coalescing: a request for figures that are already being computed
   * (same scope, same period) waits for that computation instead of starting
   * its own. Nothing is kept once it is done, so no answer is older than the
   * request that computed it.
   */
  private coalesce<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key);
    if (running) return running as Promise<T>;
    const result = compute().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, result);
    return result;
  }

  private allDistricts(): Promise<Region[]> {
    return this.cachedRegions('districts', () => this.regions.listDistricts());
  }

  async districts(actor: Actor, query: CoveragePeriodQueryDto, now = new Date()): Promise<DistrictCoverageView[]> {
    const period = resolvePeriod(query, now);
    const scope = coverageScope(actor);
    return this.coalesce(`districts|${scope ?? '*'}|${period.from}|${period.to}`, () => this.computeDistricts(scope, period));
  }

  private async computeDistricts(scope: string | null, period: Period): Promise<DistrictCoverageView[]> {
    const all = await this.allDistricts();
    const districts = scope === null ? all : all.filter((d) => d.code === scope);
    if (districts.length === 0) return [];
    const masks = yearMasks(period);
    const { months, nodes } = rollupPlan(period);
    const [counters, covered] = await Promise.all([
      this.repository.counters(
        districts.map((d) => d.code),
        months,
        nodes,
      ),
      this.repository.coveredCommunities(masks, scope, 'district'),
    ]);
    return districts.map((d) => this.districtRow(d, period, counters, covered.get(d.code) ?? 0));
  }

  async district(actor: Actor, code: string, query: CoveragePeriodQueryDto, now = new Date()): Promise<DistrictCoverageDetailView> {
    const period = resolvePeriod(query, now);
    const district = await this.findDistrict(actor, code);
    return this.coalesce(`district|${code}|${period.from}|${period.to}`, () => this.computeDistrict(district, period));
  }

  private async computeDistrict(district: Region, period: Period): Promise<DistrictCoverageDetailView> {
    const code = district.code;
    const subdistricts = await this.cachedRegions(code, () => this.regions.listSubdistricts(code));
    const masks = yearMasks(period);
    const { months, nodes } = rollupPlan(period);
    const [counters, covered] = await Promise.all([
      this.repository.counters([code, ...subdistricts.map((s) => s.code)], months, nodes),
      this.repository.coveredCommunities(masks, code, 'subdistrict'),
    ]);
    // Every community is in exactly one subdistrict: the district's covered count is their sum.
    const districtCovered = [...covered.values()].reduce((sum, n) => sum + n, 0);
    return {
      ...this.districtRow(district, period, counters, districtCovered),
      subdistricts: subdistricts.map(
        (s): SubdistrictCoverageView => ({
          subdistrictCode: s.code,
          subdistrictName: s.name,
          ...coverageFigures(counters.get(s.code) ?? new Map(), covered.get(s.code) ?? 0, s.communityCount),
        }),
      ),
    };
  }

  async gaps(actor: Actor, code: string, query: CoverageGapsQueryDto, isCsv = false, now = new Date()): Promise<Page<CoverageGapView>> {
    await this.findDistrict(actor, code);
    const days = query.days ?? DEFAULT_GAP_DAYS;
    // A CSV without ?limit is the whole list: bounded by the district's communities.
    const limit = query.limit ?? (isCsv ? Number.MAX_SAFE_INTEGER : DEFAULT_PAGE_SIZE);
    const after = query.cursor ? decodeGapCursor(query.cursor) : null;
    const rows = await this.repository.gaps(code, gapCutoffDay(days, now), Math.min(limit + 1, 1_000_000), after, query.audience ?? null);
    const hasMore = rows.length > limit;
    const page = hasMore ? rows.slice(0, limit) : rows;
    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({
        communityCode: r.communityCode,
        communityName: r.communityName,
        subdistrictCode: r.subdistrictCode,
        subdistrictName: r.subdistrictName,
        lastServedAt: r.lastServedAt?.toISOString() ?? null,
        daysSinceService: daysSince(r.lastServedAt, now),
        pendingOrders: r.pendingOrders,
      })),
      nextCursor: hasMore && last ? encodeGapCursor({ lastServedAt: last.lastServedAt, code: last.communityCode }) : null,
    };
  }

  /** Covered communities per 7-day week, the last week ending today (Shanghai), oldest first: the dashboard's trend line. */
  async trend(actor: Actor, code: string, query: CoverageTrendQueryDto, now = new Date()): Promise<CoverageTrendView> {
    const district = await this.findDistrict(actor, code);
    const weeks = query.weeks ?? DEFAULT_TREND_WEEKS;
    const today = dayNumber(shanghaiDay(now)) ?? 0;
    const periods: Period[] = Array.from({ length: weeks }, (_, i) => {
      const last = today - 7 * (weeks - 1 - i);
      return { from: dayFromNumber(last - 6), to: dayFromNumber(last) };
    });
    const covered = await this.repository.coveredPerWindow(code, periods.map((p) => yearMasks(p)));
    return {
      districtCode: district.code,
      districtName: district.name,
      communities: district.communityCount,
      weeks: periods.map((p, i) => ({ ...p, coveredCommunities: covered.get(i) ?? 0, coverage: coverageRatio(covered.get(i) ?? 0, district.communityCount) })),
    };
  }

  /** The CSV of the city view: one row per district. */
  districtsCsv(rows: DistrictCoverageView[]): string {
    return coverageCsv(rows.map((r) => ({ level: 'district', code: r.districtCode, name: r.districtName, figures: r })));
  }

  /** The CSV of a district drill-down: the district's row, then one per subdistrict. */
  districtCsv(detail: DistrictCoverageDetailView): string {
    return coverageCsv([
      { level: 'district', code: detail.districtCode, name: detail.districtName, figures: detail },
      ...detail.subdistricts.map((s) => ({ level: 'subdistrict' as const, code: s.subdistrictCode, name: s.subdistrictName, figures: s })),
    ]);
  }

  /** The district, if the actor may see it; 404 otherwise (absent or outside the scope look the same). */
  private async findDistrict(actor: Actor, code: string): Promise<Region> {
    if (!/^\d{6}$/.test(code)) throw new ValidationError(`"${code}" is not a district code.`, [{ field: 'code', message: 'must be a 6-digit district code' }]);
    const scope = coverageScope(actor);
    if (scope !== null && scope !== code) throw new NotFoundError(`District ${code} not found.`);
    const district = (await this.allDistricts()).find((d) => d.code === code);
    if (!district) throw new NotFoundError(`District ${code} not found.`);
    return district;
  }

  private districtRow(district: Region, period: Period, counters: Map<string, Map<string, number>>, covered: number): DistrictCoverageView {
    return {
      districtCode: district.code,
      districtName: district.name,
      from: period.from,
      to: period.to,
      ...coverageFigures(counters.get(district.code) ?? new Map(), covered, district.communityCount),
    };
  }
}
