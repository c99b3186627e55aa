import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelsDirForTests } from '../../test/fixtures/faces/faces.js';
import { readManifest, repoRoot } from './registry.js';

const script = join(repoRoot(), 'scripts', 'setup-models.mjs');

describe('scripts/setup-models.mjs', () => {
  it('does nothing (and fetches nothing) when every model is present with the manifest hash', () => {
    const src = modelsDirForTests();
    const dir = mkdtempSync(join(tmpdir(), 'hearth-setup-'));
    for (const spec of Object.values(readManifest().models)) copyFileSync(join(src, spec.file), join(dir, spec.file));
    for (const v of readManifest().vendor) {
      for (const f of v.source.files) {
        mkdirSync(join(dir, v.dir, f, '..'), { recursive: true });
        copyFileSync(join(src, v.dir, f), join(dir, v.dir, f));
      }
    }
    // An unreachable registry proves nothing is fetched.
    const r = spawnSync('node', [script], { env: { ...process.env, HEARTH_MODELS_DIR: dir, npm_config_registry: 'http://127.0.0.1:9/' }, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`[setup-models] models present and verified in ${dir}`);
    expect(r.status).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([...Object.values(readManifest().models).map((s) => s.file), 'vendor'].sort());
  });

  it('fails with a clear message when a model is missing and the registry cannot be reached', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-setup-'));
    const r = spawnSync('node', [script], { env: { ...process.env, HEARTH_MODELS_DIR: dir, npm_config_registry: 'http://127.0.0.1:9/', npm_config_fetch_retries: '0' }, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^\[setup-models\] error: npm pack @vladmandic\/human@3\.3\.6 failed \(is the npm registry reachable\?\): /);
  });
});
