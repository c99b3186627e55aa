import { join } from 'node:path';
import { packageRoot } from '../data/index.js';

/** The Hearth package root (shared with the other folders; see data/package-root.ts). */
export { packageRoot };

/** Absolute path of the bundled 30-day storytelling protocol (EmpathicStories++-style). */
export function bundledProtocolPath(): string {
  return join(packageRoot(), 'study-protocol', 'examples', 'empathic-stories-30d.yaml');
}

/** Absolute path of the published JSON Schema for protocol files. */
export function protocolSchemaPath(): string {
  return join(packageRoot(), 'study-protocol', 'protocol.schema.json');
}
