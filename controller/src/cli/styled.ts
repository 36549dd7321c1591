/** The few colours the live view uses; each is an SGR code. */
const SGR = { red: 31, green: 32, yellow: 33, cyan: 36, dim: 2, bold: 1 } as const;
export type Color = keyof typeof SGR;

/** A run of text drawn in one colour (or the terminal's own). */
export type Segment = readonly [text: string, color?: Color];
export type StyledLine = readonly Segment[];

/**
 * Cuts a line to `width` visible characters, ending in "…" when something was cut.
 * Done on segments rather than on the painted string so escape codes are never
 * counted as width or cut in half. Every glyph used here is one column wide.
 */
export function truncate(line: StyledLine, width: number): StyledLine {
  const total = line.reduce((n, [text]) => n + [...text].length, 0);
  if (total <= width) return line;
  const out: Segment[] = [];
  let room = Math.max(0, width - 1);
  for (const [text, color] of line) {
    if (room === 0) break;
    const chars = [...text].slice(0, room);
    out.push([chars.join(''), color]);
    room -= chars.length;
  }
  if (width > 0) out.push(['…']);
  return out;
}

export function paint(line: StyledLine, color: boolean): string {
  return line
    .map(([text, c]) => (color && c && text !== '' ? `\x1b[${SGR[c]}m${text}\x1b[0m` : text))
    .join('');
}
