// zod compiles fast object parsers with `new Function`, which the UI's CSP (no 'unsafe-eval') forbids;
// even its probe for eval shows up as a CSP violation. Parse without it.
import { config } from 'zod';

config({ jitless: true });
