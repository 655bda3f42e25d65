import fc from 'fast-check';
import {
  ineligibility,
  isAvailable,
  localSlot,
  rankVenues,
  rankVolunteers,
  scoreVenue,
  scoreVolunteer,
  type SlotFacts,
  type VenueFacts,
  type VolunteerFacts,
  weekStart,
} from './matching';

const at = (iso: string) => new Date(`${iso}+08:00`);
// Sunday 14 March 2027, 09:00–11:00 Shanghai
const slot: SlotFacts = {
  start: at('2027-03-14T09:00:00'),
  end: at('2027-03-14T11:00:00'),
  topic: 'anti_fraud',
  audience: 'elderly',
  place: { communityCode: '110108001001', subdistrictCode: '110108001', districtCode: '110108' },
};

const base: VolunteerFacts = {
  id: 'v',
  isActive: true,
  home: { communityCode: '110108002001', subdistrictCode: '110108002', districtCode: '110108' },
  skills: [{ topic: 'anti_fraud', level: 2 }],
  audiences: ['elderly'],
  availability: [{ weekday: 7, start: '08:00', end: '12:00' }],
  unavailable: [],
  maxHoursPerWeek: 8,
  bookedHoursThatWeek: 0,
  hasOverlappingAssignment: false,
  recentHours: 10,
  averageRating: 4,
  servedCount: 5,
  noShowCount: 0,
};

const volunteerArb: fc.Arbitrary<VolunteerFacts> = fc.record({
  id: fc.uuid(),
  isActive: fc.boolean(),
  home: fc.constantFrom(slot.place, base.home, { communityCode: '110105001024', subdistrictCode: '110105001', districtCode: '110105' }),
  skills: fc.array(fc.record({ topic: fc.constantFrom('anti_fraud', 'health', 'astronomy'), level: fc.integer({ min: 1, max: 3 }) }), { maxLength: 3 }),
  audiences: fc.subarray(['elderly', 'youth', 'general']),
  availability: fc.array(
    fc.record({ weekday: fc.integer({ min: 1, max: 7 }), start: fc.constantFrom('07:00', '09:00', '10:00'), end: fc.constantFrom('10:30', '11:00', '18:00') }),
    { maxLength: 3 },
  ),
  unavailable: fc.constantFrom([], [{ start: at('2027-03-14T10:00:00'), end: at('2027-03-14T10:30:00') }]),
  maxHoursPerWeek: fc.integer({ min: 0, max: 20 }),
  bookedHoursThatWeek: fc.integer({ min: 0, max: 20 }),
  hasOverlappingAssignment: fc.boolean(),
  recentHours: fc.integer({ min: 0, max: 500 }),
  averageRating: fc.option(fc.double({ min: 1, max: 5, noNaN: true })),
  servedCount: fc.integer({ min: 0, max: 100 }),
  noShowCount: fc.integer({ min: 0, max: 20 }),
});

describe('volunteer hard filters', () => {
  it('explains each refusal', () => {
    expect(ineligibility(base, slot)).toEqual([]);
    expect(ineligibility({ ...base, isActive: false }, slot)).toEqual(['inactive']);
    expect(ineligibility({ ...base, skills: [{ topic: 'health', level: 3 }] }, slot)).toEqual(['not_skilled']);
    expect(ineligibility({ ...base, availability: [{ weekday: 6, start: '08:00', end: '12:00' }] }, slot)).toEqual(['unavailable']);
    expect(ineligibility({ ...base, availability: [{ weekday: 7, start: '09:30', end: '12:00' }] }, slot)).toEqual(['unavailable']);
    expect(ineligibility({ ...base, unavailable: [{ start: at('2027-03-14T10:00:00'), end: at('2027-03-14T13:00:00') }] }, slot)).toEqual(['unavailable']);
    expect(ineligibility({ ...base, hasOverlappingAssignment: true }, slot)).toEqual(['busy']);
    expect(ineligibility({ ...base, bookedHoursThatWeek: 7 }, slot)).toEqual(['over_weekly_cap']);
    expect(ineligibility({ ...base, bookedHoursThatWeek: 6 }, slot)).toEqual([]);
  });

  it('the slot\'s local time, worked out once, decides availability as working it out per volunteer does', () => {
    expect(localSlot(slot.start, slot.end)).toEqual({ weekday: 7, startMinutes: 540, endMinutes: 660 });
    expect(localSlot(at('2027-03-14T23:00:00'), at('2027-03-15T01:00:00'))).toEqual({ weekday: 7, startMinutes: 1380, endMinutes: 1500 });
    expect(localSlot(at('2027-03-14T22:00:00'), at('2027-03-15T00:00:00'))).toMatchObject({ endMinutes: 1440 });
    const instant = fc.integer({ min: Date.parse('2027-03-08T00:00:00Z'), max: Date.parse('2027-03-22T00:00:00Z') }).map((ms) => new Date(ms - (ms % 60000)));
    fc.assert(
      fc.property(volunteerArb, instant, fc.integer({ min: 15, max: 12 * 60 }), (v, start, minutes) => {
        const end = new Date(start.getTime() + minutes * 60000);
        expect(isAvailable(v, start, end, localSlot(start, end))).toBe(isAvailable(v, start, end));
      }),
    );
  });

  it('a slot past Beijing midnight needs a window to 24:00 on its day and one from 00:00 on the next (Sunday → Monday)', () => {
    const [start, end] = [at('2027-03-14T23:00:00'), at('2027-03-15T01:00:00')]; // Sunday 23:00 → Monday 01:00
    const sunday = { weekday: 7, start: '20:00', end: '24:00' };
    const monday = { weekday: 1, start: '00:00', end: '06:00' };
    expect(isAvailable({ availability: [sunday, monday], unavailable: [] }, start, end)).toBe(true);
    expect(isAvailable({ availability: [sunday], unavailable: [] }, start, end)).toBe(false);
    expect(isAvailable({ availability: [monday], unavailable: [] }, start, end)).toBe(false);
    expect(isAvailable({ availability: [sunday, { ...monday, start: '00:30' }], unavailable: [] }, start, end)).toBe(false);
    expect(isAvailable({ availability: [{ ...sunday, end: '23:59' }, monday], unavailable: [] }, start, end)).toBe(false);
    expect(isAvailable({ availability: [sunday, monday], unavailable: [{ start: at('2027-03-15T00:30:00'), end: at('2027-03-15T02:00:00') }] }, start, end)).toBe(false);
    // every day 00:00–24:00: any slot of up to two days
    const always = { availability: [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, start: '00:00', end: '24:00' })), unavailable: [] };
    fc.assert(
      fc.property(fc.integer({ min: Date.parse('2027-03-08T00:00:00Z'), max: Date.parse('2027-03-22T00:00:00Z') }), fc.integer({ min: 1, max: 48 * 60 }), (ms, minutes) => {
        const from = new Date(ms - (ms % 60000));
        expect(isAvailable(always, from, new Date(from.getTime() + minutes * 60000))).toBe(true);
      }),
    );
  });

  it('a ranked list never holds a volunteer that breaks a filter', () => {
    fc.assert(
      fc.property(fc.array(volunteerArb, { maxLength: 30 }), (volunteers) => {
        for (const { item } of rankVolunteers(volunteers, slot)) {
          expect(item.isActive).toBe(true);
          expect(item.skills.some((s) => s.topic === slot.topic)).toBe(true);
          expect(item.hasOverlappingAssignment).toBe(false);
          expect(isAvailable(item, slot.start, slot.end)).toBe(true);
          expect(item.bookedHoursThatWeek + 2).toBeLessThanOrEqual(item.maxHoursPerWeek);
        }
      }),
    );
  });

  it('ranks best first and the score is the sum of its terms', () => {
    fc.assert(
      fc.property(fc.array(volunteerArb, { maxLength: 30 }), (volunteers) => {
        const ranked = rankVolunteers(volunteers, slot);
        for (let i = 1; i < ranked.length; i++) expect(ranked[i - 1]!.score).toBeGreaterThanOrEqual(ranked[i]!.score);
        for (const r of ranked) expect(r.score).toBeCloseTo(Object.values(r.breakdown).reduce((a, b) => a + b, 0), 1);
      }),
    );
  });
});

describe('each score term moves the score the right way', () => {
  const score = (v: VolunteerFacts) => scoreVolunteer(v, slot).score;
  it('higher topic level, audience experience, proximity and rating raise it', () => {
    fc.assert(
      fc.property(volunteerArb, (v) => {
        const skilled = { ...v, skills: [{ topic: 'anti_fraud', level: 1 }] };
        expect(score({ ...skilled, skills: [{ topic: 'anti_fraud', level: 3 }] })).toBeGreaterThan(score(skilled));
        expect(score({ ...v, audiences: ['elderly'] })).toBeGreaterThan(score({ ...v, audiences: [] }));
        expect(score({ ...v, home: slot.place })).toBeGreaterThanOrEqual(score(v));
        expect(score({ ...v, averageRating: 5 })).toBeGreaterThanOrEqual(score({ ...v, averageRating: 2 }));
      }),
    );
  });

  it('more recent hours lower it (fairness) and no-shows lower it (reliability)', () => {
    fc.assert(
      fc.property(volunteerArb, fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 10 }), (v, moreHours, moreNoShows) => {
        expect(score({ ...v, recentHours: v.recentHours + moreHours })).toBeLessThanOrEqual(score(v));
        expect(score({ ...v, noShowCount: v.noShowCount + moreNoShows })).toBeLessThan(score(v));
      }),
    );
  });

  it('proximity follows community > subdistrict > district > elsewhere', () => {
    const p = (home: VolunteerFacts['home']) => scoreVolunteer({ ...base, home }, slot).breakdown.proximity!;
    const community = p(slot.place);
    const subdistrict = p({ communityCode: '110108001002', subdistrictCode: '110108001', districtCode: '110108' });
    const district = p(base.home);
    const elsewhere = p({ communityCode: '110105001024', subdistrictCode: '110105001', districtCode: '110105' });
    expect(community).toBeGreaterThan(subdistrict);
    expect(subdistrict).toBeGreaterThan(district);
    expect(district).toBeGreaterThan(elsewhere);
  });
});

describe('venues', () => {
  const needs = { expectedAttendance: 60, accessibilityNeeds: ['wheelchair'], place: slot.place };
  const venue = (over: Partial<VenueFacts>): VenueFacts => ({ id: 'x', capacity: 80, accessibility: ['wheelchair'], place: slot.place, isFree: true, ...over });

  it('keeps only free venues large and accessible enough, nearest and best-fitting first', () => {
    const ranked = rankVenues(
      [
        venue({ id: 'small', capacity: 40 }),
        venue({ id: 'busy', isFree: false }),
        venue({ id: 'stairs', accessibility: [] }),
        venue({ id: 'far', place: { communityCode: '110105001024', subdistrictCode: '110105001', districtCode: '110105' } }),
        venue({ id: 'stadium', capacity: 2000 }),
        venue({ id: 'hall' }),
      ],
      needs,
    );
    expect(ranked.map((r) => r.item.id)).toEqual(['hall', 'stadium', 'far']);
    expect(scoreVenue(venue({}), needs).breakdown).toEqual({ proximity: 20, fit: 7.5 });
  });
});

describe('week start', () => {
  it('is Monday 00:00 in Shanghai', () => {
    expect(weekStart(at('2027-03-14T09:00:00'))).toEqual(at('2027-03-08T00:00:00'));
    expect(weekStart(at('2027-03-08T00:00:00'))).toEqual(at('2027-03-08T00:00:00'));
    expect(weekStart(at('2027-03-07T23:59:00'))).toEqual(at('2027-03-01T00:00:00'));
  });
});
