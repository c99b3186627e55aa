import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../data/index.js';

/** Hearth's version, from package.json (works from sources and from dist/). */
export function hearthVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
