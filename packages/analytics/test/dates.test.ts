import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { localToday } from '../src/dates';

/** The date a fresh formatter gives: what localToday must answer however it got there. */
function formatted(timezone: string, at: Date): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

// Zones on whole hours, half hours and quarter hours, both sides of UTC, some with daylight saving.
const ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/St_Johns',
  'America/Los_Angeles',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Australia/Eucla',
  'Pacific/Chatham',
  'Pacific/Kiritimati',
  'Pacific/Pago_Pago',
];

describe('localToday', () => {
  it('gives the zone’s calendar date at any instant, asked in any order', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            zone: fc.constantFrom(...ZONES),
            at: fc.date({
              min: new Date('1973-01-01T00:00:00Z'),
              max: new Date('2100-01-01T00:00:00Z'),
              noInvalidDate: true,
            }),
          }),
          { minLength: 1, maxLength: 20 },
        ),
        (asks) => {
          for (const { zone, at } of asks) expect(localToday(zone, at)).toBe(formatted(zone, at));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('moves to the next date at each zone’s own midnight, within one minute asked second by second', () => {
    for (const zone of ZONES) {
      // A minute either side of the local midnight that follows 2026-03-01T12:00Z.
      const noon = Date.parse('2026-03-01T12:00:00Z');
      const before = formatted(zone, new Date(noon));
      let midnight = noon;
      while (formatted(zone, new Date(midnight)) === before) midnight += 60_000;
      for (let at = midnight - 60_000; at < midnight + 60_000; at += 1_000) {
        expect(localToday(zone, new Date(at))).toBe(formatted(zone, new Date(at)));
      }
      expect(localToday(zone, new Date(midnight - 1))).toBe(before);
      expect(localToday(zone, new Date(midnight))).not.toBe(before);
    }
  });
});
