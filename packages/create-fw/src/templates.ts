import { fileURLToPath } from 'node:url';
import { CreateError } from './errors.js';

/** The templates, first the default; each is the folder of the same name in `templates/`. */
export const TEMPLATES = [
  { name: 'fastify', hint: 'Fastify and TypeScript, routes in their own files, a test with app.inject' },
  { name: 'minimal', hint: 'a plain (req, res) listener, no framework' },
] as const;

export type TemplateName = (typeof TEMPLATES)[number]['name'];

export const DEFAULT_TEMPLATE: TemplateName = 'fastify';

/** The folder that holds the template folders (the same from src/ and from dist/). */
export const templatesDir = fileURLToPath(new URL('../templates/', import.meta.url));

export function isTemplateName(name: string): name is TemplateName {
  return TEMPLATES.some((template) => template.name === name);
}

/** The template's name, or a one-line refusal that lists the known ones. */
export function checkTemplate(name: string): TemplateName {
  if (isTemplateName(name)) return name;
  const known = TEMPLATES.map((template) => template.name).join(', ');
  throw new CreateError(`unknown template "${name}": the templates are ${known}`);
}
