/**
 * What the CLI may do to its output stream: colours only on a terminal and never when
 * NO_COLOR is set (https://no-color.org), in-place redraws only on a terminal, and lines cut
 * to the terminal's width so a redraw can count the lines it drew. Piped output stays plain
 * text that scripts and logs can read.
 */

/** How output may look on one stream. */
export interface TerminalStyle {
  /** ANSI colours allowed. */
  readonly colour: boolean;
  /** Cursor moves allowed (redraw in place). */
  readonly redraw: boolean;
  /** Width to cut lines to; undefined when not a terminal (lines are never cut). */
  readonly columns: number | undefined;
}

/** Plain output: no colours, no redraws, no cutting (pipes, files, tests). */
export const PLAIN: TerminalStyle = { colour: false, redraw: false, columns: undefined };

/** The style a stream allows, from `isTTY`, `NO_COLOR` and `TERM=dumb`. */
export function terminalStyle(
  stream: { readonly isTTY?: boolean; readonly columns?: number },
  env: NodeJS.ProcessEnv = process.env,
): TerminalStyle {
  if (stream.isTTY !== true || env.TERM === 'dumb') return PLAIN;
  return {
    colour: env.NO_COLOR === undefined || env.NO_COLOR === '',
    redraw: true,
    columns: stream.columns !== undefined && stream.columns > 0 ? stream.columns : 80,
  };
}

const SGR = {
  red: '31',
  green: '32',
  yellow: '33',
  cyan: '36',
  bold: '1',
  dim: '2',
} as const;

/** A colour or emphasis the CLI uses. */
export type Paint = keyof typeof SGR;

/** `text` in `paint` when the style allows colours (ECMA-48 SGR), else unchanged. */
export function paint(style: TerminalStyle, colour: Paint | undefined, text: string): string {
  if (!style.colour || colour === undefined || text === '') return text;
  return `\u001b[${SGR[colour]}m${text}\u001b[0m`;
}

/** `text` without ANSI escape sequences. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
}

/** A piece of a line with its colour. */
export type Segment = readonly [text: string, colour?: Paint | undefined];

/**
 * Joins segments into one line, cut to the style's width (the cut marked with "…") before
 * colouring, so a coloured line never wraps and a redraw knows how many lines it wrote.
 */
export function renderLine(style: TerminalStyle, segments: readonly Segment[]): string {
  // One column stays free: writing the last column makes some terminals wrap early.
  let room = style.columns === undefined ? Infinity : style.columns - 1;
  const total = segments.reduce((sum, [text]) => sum + [...text].length, 0);
  if (total <= room) room = Infinity;
  else room -= 1;
  let out = '';
  for (const [text, colour] of segments) {
    const chars = [...text];
    const shown = chars.length <= room ? text : chars.slice(0, Math.max(0, room)).join('');
    room -= [...shown].length;
    out += paint(style, colour, shown);
    if (shown !== text) return out + '…';
  }
  return out;
}

/**
 * Moves the cursor back to the start of a block of `lines` lines just written and clears
 * from there to the end of the screen (ECMA-48 CUU "ESC [ n A" and ED "ESC [ J").
 */
export function eraseLines(lines: number): string {
  return lines > 0 ? `\u001b[${lines}A\r\u001b[J` : '';
}
