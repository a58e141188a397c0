/**
 * Plain-text tables for `aviary status` and `aviary get events`: a header row, columns padded
 * to their widest cell, two spaces between columns, and lines cut to the terminal width.
 * Piped output is the same table without colours and without cutting, so `awk` and `grep`
 * work on it.
 */
import { renderLine, type Paint, type Segment, type TerminalStyle } from './render-terminal.js';

/** A cell: its text, optionally coloured on a terminal. */
export type Cell = string | { readonly text: string; readonly colour?: Paint | undefined };

/** Renders `rows` under `headers`; returns the lines without trailing newlines. */
export function renderTable(
  style: TerminalStyle,
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
): string[] {
  const text = (cell: Cell | undefined): string => (typeof cell === 'string' ? cell : (cell?.text ?? ''));
  const widths = headers.map((header, column) =>
    Math.max([...header].length, ...rows.map((row) => [...text(row[column])].length)),
  );
  const line = (cells: readonly Cell[], header: boolean): string => {
    const segments: Segment[] = [];
    headers.forEach((_, column) => {
      const cell = cells[column];
      const last = column === headers.length - 1;
      const value = text(cell);
      const padded = last ? value : value.padEnd(value.length + (widths[column] ?? 0) - [...value].length);
      const colour = header ? 'bold' : typeof cell === 'string' ? undefined : cell?.colour;
      segments.push([padded, colour]);
      if (!last) segments.push(['  ']);
    });
    return renderLine(style, segments).trimEnd();
  };
  return [line(headers, true), ...rows.map((row) => line(row, false))];
}
