/**
 * Shared terminal rendering: speaker colours, times, the status line, tables, and the live region (partials and
 * status line redrawn in place at the bottom of a TTY). Colour only on a TTY that supports it (NO_COLOR,
 * FORCE_COLOR and TERM=dumb are honoured by Node's hasColors); no escape codes at all when not a TTY.
 */
import { styleText } from 'node:util';
import { inertLine } from '../core/call-text.js';

type Format = Parameters<typeof styleText>[0];
type Style = Exclude<Format, readonly unknown[]>;
export type Paint = (format: Format, text: string) => string;

export interface Terminal {
  write(text: string): void;
  /** True when output goes to a terminal: in-place updates are possible. */
  readonly interactive: boolean;
  readonly paint: Paint;
  /** Columns, for keeping redrawn lines on one row. */
  columns(): number;
}

export function terminalFor(stream: NodeJS.WriteStream): Terminal {
  const interactive = stream.isTTY === true;
  const colour = interactive && typeof stream.hasColors === 'function' && stream.hasColors();
  return {
    write: (text) => void stream.write(text),
    interactive,
    paint: colour ? (format, text) => styleText(format, text) : (_format, text) => text,
    columns: () => (interactive && stream.columns > 0 ? stream.columns : 80),
  };
}

export type Role = 'customer' | 'assistant';

const ROLE_LABEL: Record<Role, string> = { customer: 'Customer', assistant: 'Assistant' };
const ROLE_COLOUR: Record<Role, Style> = { customer: 'yellow', assistant: 'cyan' };

/** 75 → "01:15"; 3725 → "1:02:05". */
export function clock(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** Call content made safe for a terminal: no control characters (escape sequences), no line breaks. */
export function safe(text: string): string {
  return inertLine(text);
}

/** "[00:12] Assistant: Hello" with the speaker in its colour. */
export function finalLine(paint: Paint, line: { role: Role; text: string; secondsFromStart: number }): string {
  const label = paint(['bold', ROLE_COLOUR[line.role]], `${ROLE_LABEL[line.role]}:`);
  return `${paint('dim', `[${clock(line.secondsFromStart)}]`)} ${label} ${safe(line.text)}`;
}

/** What a party is saying now, not final yet, kept within `width` columns (the newest words shown). */
export function partialLine(paint: Paint, partial: { role: Role; text: string }, width: number): string {
  const lead = `        ${ROLE_LABEL[partial.role]}: `;
  const text = safe(partial.text);
  const room = Math.max(1, width - lead.length - 1);
  return paint('dim', `${lead}${text.length > room ? `…${text.slice(text.length - room + 1)}` : text}…`);
}

export function talkingLabel(talking: { customer: boolean; assistant: boolean }): string {
  if (talking.customer && talking.assistant) return 'both talking';
  if (talking.customer) return 'customer talking';
  if (talking.assistant) return 'assistant talking';
  return 'nobody talking';
}

const STATUS_COLOUR: Record<string, Style> = { 'in-progress': 'green', ringing: 'yellow', queued: 'yellow', ended: 'red', forwarding: 'magenta' };

/** "● in-progress  01:23  assistant talking" */
export function statusLine(paint: Paint, view: { status: string; elapsedSeconds?: number; talking?: string }): string {
  const dot = paint(STATUS_COLOUR[view.status] ?? 'white', '●');
  const parts = [`${dot} ${safe(view.status)}`];
  if (view.elapsedSeconds !== undefined) parts.push(clock(view.elapsedSeconds));
  if (view.talking) parts.push(view.talking);
  return parts.join('  ');
}

/**
 * The bottom of an interactive terminal: a few lines (partials, the status line) redrawn in place, with final
 * lines printed above them for good. Each redrawn line is cut to the terminal width so the cursor arithmetic holds.
 */
export class LiveRegion {
  private drawn = 0;
  constructor(private readonly terminal: Terminal) {}

  /** Prints `lines` for good above the live region, then redraws the live region as `live`. */
  update(lines: string[], live: string[]): void {
    let out = this.eraseSequence();
    for (const line of lines) out += `${line}\n`;
    const width = Math.max(10, this.terminal.columns() - 1);
    const fitted = live.map((l) => fit(l, width));
    out += fitted.join('\n');
    this.drawn = fitted.length;
    this.terminal.write(out);
  }

  /** Removes the live region, leaving the cursor at the start of an empty line. */
  clear(): void {
    this.terminal.write(this.eraseSequence());
    this.drawn = 0;
  }

  private eraseSequence(): string {
    if (this.drawn === 0) return '';
    // To the start of the region's first row, then erase to the end of the screen.
    return `\r${this.drawn > 1 ? `\x1b[${this.drawn - 1}A` : ''}\x1b[J`;
  }
}

// eslint-disable-next-line no-control-regex
const SGR = /\x1b\[[0-9;]*m/g;

/** Cuts a line (which may carry colour codes) to `width` visible characters. */
function fit(line: string, width: number): string {
  const visible = line.replace(SGR, '');
  if (visible.length <= width) return line;
  return `${visible.slice(0, width - 1)}…`;
}

/** A plain text table: a header row and left-aligned columns, the last one unpadded. */
export function table(paint: Paint, header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const format = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [paint('bold', format(header)), ...rows.map(format)].join('\n') + '\n';
}
