export { startPostgres, type RunningPostgres, type StartPostgresOptions } from './server.js';
