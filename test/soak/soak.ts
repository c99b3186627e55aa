/**
 * `npm run soak`: the 30-day fault soak (see run-soak.ts and the "Fault soak" section of test/README.md).
 * Options: --days N (30), --kills N (100), --bound-min M (25), --seed S (13). Prints JSON lines; the last
 * one holds the figures. Exit 1 when a target is missed.
 */
import { loadavg } from 'node:os';
import { runSoak, type SoakFigures } from './run-soak.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const days = arg('days', 30);
const scale = (d: number) => Math.max(1, Math.round((d * days) / 30));
const figures: SoakFigures = await runSoak({
  days, kills: arg('kills', 100), boundMs: arg('bound-min', 25) * 60_000, pace: arg('pace', 6_000), sessionPace: arg('session-pace', 150), seed: arg('seed', 13),
  faults: {
    llmDown: scale(3), llmSlow: scale(4), llmGarbage: scale(5), camera: scale(7), microphone: scale(10), disk: scale(14),
    clockBack: scale(17), clockForward: scale(20), dbLocked: scale(23), crisis: [scale(9), scale(26)],
  },
});
const missed: string[] = [];
if (figures.boundReached) missed.push('wall-time bound reached');
if (figures.rows.lost || figures.rows.changed) missed.push(`${figures.rows.lost} rows lost, ${figures.rows.changed} changed`);
if (figures.danglingSessions) missed.push(`${figures.danglingSessions} sessions left started`);
if (figures.kills.survived !== figures.kills.requested) missed.push(`${figures.kills.survived}/${figures.kills.requested} kills survived`);
if (figures.instances.withReason !== days) missed.push(`${figures.instances.withReason}/${days} instances terminal with a reason`);
if (figures.integrity !== 'ok') missed.push(`integrity_check: ${figures.integrity}`);
if (figures.alerts.lost) missed.push(`${figures.alerts.lost} alerts lost`);
if (figures.shutdownHangs) missed.push(`${figures.shutdownHangs} device process(es) did not stop within 30 s of SIGTERM at the end`);
process.stdout.write(`${JSON.stringify({ soak: 'result', ok: missed.length === 0, missed, wallMs: figures.wallMs, boundMs: figures.boundMs, loadavg: loadavg().map((x) => Math.round(x * 100) / 100) })}\n`);
process.exitCode = missed.length === 0 ? 0 : 1;
