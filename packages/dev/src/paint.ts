import { styleText } from 'node:util';

type Style = Parameters<typeof styleText>[0];

/** True when `stream` is a person's terminal: not a log file, a pipe, NO_COLOR or a dumb terminal. */
export function wantsColour(stream: { isTTY?: boolean } = process.stdout): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
}

/** Colours for a person at a terminal; plain text for logs, pipes and NO_COLOR. */
export function paint(style: Style, text: string): string {
  return wantsColour() ? styleText(style, text) : text;
}
