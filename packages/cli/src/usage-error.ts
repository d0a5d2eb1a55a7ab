// UsageError lives in errors.ts with the CLI's other errors; this path stays for the config
// loaders (src/config/*), which import it from here.
export { UsageError } from './errors.js';
