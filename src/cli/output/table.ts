/**
 * Tables the way the docker CLI prints them: Go's `tabwriter` with minwidth 10, padding 3 and spaces
 * (`tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`). Every column but the last is padded to
 * max(widest cell + 3, 10); widths count characters, not bytes.
 */

function width(s: string): number {
  return [...s].length;
}

export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const columns = header.length;
  const widths: number[] = [];
  for (let c = 0; c < columns - 1; c++) {
    let w = 0;
    for (const row of all) w = Math.max(w, width(row[c] ?? ''));
    widths.push(Math.max(w + 3, 10));
  }
  let out = '';
  for (const row of all) {
    let line = '';
    for (let c = 0; c < columns; c++) {
      const cell = row[c] ?? '';
      line += c < columns - 1 ? cell + ' '.repeat(widths[c]! - width(cell)) : cell;
    }
    out += `${line}\n`;
  }
  return out;
}
