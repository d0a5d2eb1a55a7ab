export { create, DEFAULT_DIR, dirProblem, nextSteps } from './create.js';
export type { CreateOptions, CreateOutcome } from './create.js';
export { CancelledError, CreateError } from './errors.js';
export { appNameFor, FW_VERSION, nameProblem, scaffold, targetProblem, templateFiles } from './scaffold.js';
export type { ScaffoldOptions, ScaffoldResult } from './scaffold.js';
export { checkTemplate, DEFAULT_TEMPLATE, TEMPLATES, templatesDir } from './templates.js';
export type { TemplateName } from './templates.js';
