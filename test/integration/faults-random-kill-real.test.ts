/** The random-kill fault test (test/support/random-kill-real.ts) on the suite's shared Temporal dev server. */
import '../support/random-kill-real.js';
