import ms from 'ms';

/** The values of command-line options, checked the same way by every command. */

export function wholeNumber(value: string, name: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number from ${min} to ${max}`);
  return n;
}

/**
 * A duration such as 90s, 15m, 1h, 7d, in milliseconds. A unit is required: a bare
 * number would be read as milliseconds, and "--older-than 7" meaning 7 ms would
 * delete far more than whoever typed it meant.
 */
export function duration(value: string, name: string): number {
  const text = value.trim();
  // ms() reads "1h", "90 minutes" and the like; its type takes only literals it knows, so the checked text is cast.
  const parsed = /^\d+(\.\d+)?\s*[a-z]+$/i.test(text) ? ms(text as ms.StringValue) : undefined;
  if (parsed === undefined || !Number.isFinite(parsed)) throw new Error(`${name} must be a duration with a unit, such as 30m, 1h or 7d`);
  return parsed;
}

/** Rows as columns two spaces apart; a column holding numbers is right-aligned, heading included. */
export function columns(rows: readonly (readonly (string | number)[])[]): string[] {
  const widths: number[] = [];
  const numeric: boolean[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, String(cell).length);
      if (typeof cell === 'number') numeric[i] = true;
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (numeric[i] ? String(cell).padStart(widths[i]!) : String(cell).padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

export const isoOrDash = (at: Date | null) => (at ? at.toISOString() : '-');
