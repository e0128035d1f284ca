/** `Label:  value` blocks as `docker version` prints them (tabwriter, minwidth 20, padding 1). */

export type KeyValueLine = readonly [label: string, value: string] | string;

/** Aligns the values of `[label, value]` lines in one column; plain strings are printed as they are. */
export function formatKeyValues(lines: readonly KeyValueLine[]): string {
  let width = 20;
  for (const l of lines) if (typeof l !== 'string') width = Math.max(width, l[0].length + 1);
  return lines.map((l) => (typeof l === 'string' ? `${l}\n` : `${l[0].padEnd(width)}${l[1]}\n`)).join('');
}
