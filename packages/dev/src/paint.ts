import { styleText } from 'node:util';

type Style = Parameters<typeof styleText>[0];

/** Colours for a person at a terminal; plain text for logs, pipes and NO_COLOR. */
export function paint(style: Style, text: string): string {
  const wanted = process.stdout.isTTY && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
  return wanted ? styleText(style, text) : text;
}
