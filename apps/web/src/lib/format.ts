import type { DurationConfig, TypedMetric } from '@lifexp/contracts';

// Pure helpers for showing and reading values: no React, no I/O (unit-tested on their own).

/** The browser's time zone, or UTC when it has none that the server would take. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** Hours and minutes typed by a person → seconds; null when neither is a usable number. */
export function durationSeconds(hours: string, minutes: string): number | null {
  const h = hours.trim() === '' ? 0 : Number(hours);
  const m = minutes.trim() === '' ? 0 : Number(minutes);
  if (!Number.isFinite(h) || !Number.isFinite(m) || h < 0 || m < 0) return null;
  if (hours.trim() === '' && minutes.trim() === '') return null;
  return Math.round(h * 3600 + m * 60);
}

/** Seconds → "7 h 30 min" (or "45 min", "0 min"). */
export function formatDuration(seconds: number): string {
  const total = Math.round(seconds / 60);
  const h = Math.floor(total / 60);
  const m = total % 60;
  if (h === 0) return `${m} min`;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

/** Seconds in a duration metric's display unit, as a number for charts. */
export function inDisplayUnit(seconds: number, unit: DurationConfig['displayUnit']): number {
  if (unit === 'hours') return seconds / 3600;
  if (unit === 'minutes') return seconds / 60;
  return seconds;
}

const DURATION_UNITS: Record<DurationConfig['displayUnit'], string> = {
  hours: 'h',
  minutes: 'min',
  seconds: 's',
};

/** The unit a metric's numbers are shown in ("h", "kg", …), or "" when it has none. */
export function unitOf(metric: TypedMetric): string {
  if (metric.type === 'number') return metric.config.unit ?? '';
  if (metric.type === 'duration') return DURATION_UNITS[metric.config.displayUnit];
  return '';
}

/** A stored value as a person reads it, in the metric's terms. */
export function formatValue(metric: TypedMetric, value: number | boolean | string): string {
  switch (metric.type) {
    case 'binary':
      return value === true ? 'Yes' : 'No';
    case 'duration':
      return typeof value === 'number' ? formatDuration(value) : String(value);
    case 'number': {
      const { unit, decimals } = metric.config;
      const shown =
        typeof value === 'number' && decimals !== undefined ? value.toFixed(decimals) : String(value);
      return unit ? `${shown} ${unit}` : shown;
    }
    case 'rating':
      return `${value} / ${metric.config.max}`;
    case 'text':
      return String(value);
  }
}

/** A p or q value as the findings print it: "< 0.001" or three significant digits. */
export function formatP(p: number): string {
  if (p < 0.001) return '< 0.001';
  return p < 0.01 ? p.toFixed(3) : p.toFixed(2);
}

/** A signed number with a fixed number of decimals: "+0.31", "−1.20". */
export function signed(value: number, decimals = 2): string {
  const text = Math.abs(value).toFixed(decimals);
  return value > 0 ? `+${text}` : value < 0 ? `−${text}` : text;
}

/** "sleep, late" → ["sleep", "late"]: tags as typed, trimmed, empty ones dropped. */
export function parseTags(text: string): string[] {
  return text
    .split(',')
    .map((tag) => tag.trim())
    .filter(Boolean);
}

/** The error shape the API sends (tRPC's data), as much of it as the forms use. */
export interface ApiErrorData {
  code?: string;
  zodError?: { errors?: string[]; properties?: Record<string, { errors?: string[] }> } | null;
  details?: unknown;
}

/**
 * Which form field an API error belongs to, and what to say there. Schema errors name their field;
 * the rest go by code: a taken email to the email field, wrong credentials to the password.
 */
export function fieldErrors(
  error: { message: string; data?: ApiErrorData | null } | null | undefined,
  fields: readonly string[],
  byCode: Record<string, string> = {},
): Record<string, string> {
  if (!error) return {};
  const result: Record<string, string> = {};
  const properties = error.data?.zodError?.properties ?? {};
  for (const field of fields) {
    const messages = properties[field]?.errors;
    if (messages?.length) result[field] = messages.join('; ');
  }
  if (Object.keys(result).length > 0) return result;
  const code = error.data?.code;
  const field = (code && byCode[code]) || 'form';
  return { [field]: error.message || 'Something went wrong' };
}

/**
 * Whether a write should wait and be sent again later: the request never reached the server
 * (offline, connection refused), or the server asked for a pause (TOO_MANY_REQUESTS).
 */
export function isRetryLater(error: unknown): boolean {
  const code = (error as { data?: { code?: unknown } } | null)?.data?.code;
  return code === 'TOO_MANY_REQUESTS' || isNetworkError(error);
}

/** Whether an error means the request never reached the server (offline, connection refused). */
export function isNetworkError(error: unknown): boolean {
  if (typeof navigator !== 'undefined' && navigator.onLine === false) return true;
  const candidate = error as { data?: unknown; cause?: unknown; message?: string } | null;
  if (!candidate) return false;
  if (candidate.data) return false;
  if (candidate.cause instanceof TypeError) return true;
  return /fetch|network|load failed/i.test(candidate.message ?? '');
}
