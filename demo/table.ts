// Plain-text tables for the demo and the examples: padded columns, optional ANSI colours.

export interface Style {
  readonly bold: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly green: (s: string) => string;
  readonly red: (s: string) => string;
  readonly yellow: (s: string) => string;
}

const ansi = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const plain = (s: string) => s;

/** Colours only on a terminal, and never with NO_COLOR set (https://no-color.org). */
export function styleFor(stream: { isTTY?: boolean }): Style {
  const color = stream.isTTY === true && !process.env["NO_COLOR"] && process.env["TERM"] !== "dumb";
  return color ? { bold: ansi(1, 22), dim: ansi(2, 22), green: ansi(32, 39), red: ansi(31, 39), yellow: ansi(33, 39) } : { bold: plain, dim: plain, green: plain, red: plain, yellow: plain };
}

export interface Cell {
  readonly text: string;
  /** Applied after padding, so colour codes do not upset the widths. */
  readonly paint?: (s: string) => string;
}

/** Render rows under a header, columns padded to their widest cell, with a rule below the header. */
export function renderTable(header: readonly string[], rows: readonly (readonly (string | Cell)[])[], style: Style): string {
  const cells = rows.map((row) => row.map((c) => (typeof c === "string" ? { text: c } : c)));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]?.text.length ?? 0)));
  const line = (row: readonly Cell[]) =>
    row
      .map((c, i) => {
        const padded = i === row.length - 1 ? c.text : c.text.padEnd(widths[i] ?? 0);
        return c.paint ? c.paint(padded) : padded;
      })
      .join("  ")
      .trimEnd();
  return [style.bold(line(header.map((text) => ({ text })))), style.dim(widths.map((w) => "-".repeat(w)).join("  ")), ...cells.map(line)].join("\n");
}
