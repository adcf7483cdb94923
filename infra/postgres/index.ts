export { startPostgres, type RunningPostgres, type StartPostgresOptions } from './server.js';
export { postgresBinary, postgresBinDir } from './binaries.js';
