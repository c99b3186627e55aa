#!/usr/bin/env node
// The test command: type-check, build (end-to-end tests run the compiled CLI), then every vitest
// suite. Ends with one line `tests: N passed, N failed, N skipped` and a non-zero exit on failure.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? '0' } }).status ?? 1;

for (const [label, args] of [['type check', ['tsc', '-p', 'tsconfig.json', '--noEmit']], ['build', ['tsc', '-p', 'tsconfig.build.json']]]) {
  if (run('npx', args) !== 0) {
    console.log(`${label} failed`);
    console.log('tests: 0 passed, 1 failed');
    process.exit(1);
  }
}

const results = '.vitest-results.json';
rmSync(results, { force: true });
const status = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...process.argv.slice(2)]);
if (!existsSync(results)) {
  console.log('tests: 0 passed, 1 failed');
  process.exit(status || 1);
}
const r = JSON.parse(readFileSync(results, 'utf8'));
const failedSuites = (r.testResults ?? []).filter((s) => s.status === 'failed' && (s.assertionResults ?? []).length === 0).length;
const passed = r.numPassedTests;
const failed = r.numFailedTests + failedSuites;
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(status !== 0 || failed > 0 ? 1 : 0);
