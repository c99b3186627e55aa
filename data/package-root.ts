import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The Hearth package root: the nearest folder above this module whose package.json is named
 * "hearth". Works from the sources and from the build (dist/), so bundled files (stories,
 * prompts, protocols, models) are found either way.
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string; version?: string }).name === 'hearth') return (root = dir);
      } catch {
        /* an unreadable package.json is not ours; keep walking up */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the hearth package root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}
