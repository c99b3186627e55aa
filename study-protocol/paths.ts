import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The Hearth package root: the nearest folder above this module whose package.json is named
 * "hearth". Works from the sources (study-protocol/) and from the build (dist/study-protocol/).
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'hearth') return (root = dir);
      } catch {
        /* not ours; keep walking up */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the hearth package root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** Absolute path of the bundled 30-day storytelling protocol (EmpathicStories++-style). */
export function bundledProtocolPath(): string {
  return join(packageRoot(), 'study-protocol', 'examples', 'empathic-stories-30d.yaml');
}

/** Absolute path of the published JSON Schema for protocol files. */
export function protocolSchemaPath(): string {
  return join(packageRoot(), 'study-protocol', 'protocol.schema.json');
}
