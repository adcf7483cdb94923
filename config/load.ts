/** Reads slipway.yaml from disk. The only I/O around the config; the schema itself is pure. */
import { readFile } from 'node:fs/promises';
import { ConfigError, parseConfig, type SlipwayConfig } from './schema.js';

export const DEFAULT_CONFIG_FILE = 'slipway.yaml';

export async function loadConfigFile(file: string = process.env.SLIPWAY_CONFIG ?? DEFAULT_CONFIG_FILE): Promise<SlipwayConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(file, [{ path: '', message: code === 'ENOENT' ? 'file not found' : `cannot read: ${code}` }]);
  }
  return parseConfig(text, file);
}
