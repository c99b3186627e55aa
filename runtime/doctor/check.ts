/**
 * What every doctor check gives back, and how a run of them is shown to staff. A check never
 * throws: whatever went wrong becomes its `detail`, and what to do about it its `fix`.
 */

/** The outcome of one check: `warn` is worth a look but does not fail the doctor; `skip` did not apply here. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** One check's answer. */
export interface CheckResult {
  name: string;
  status: CheckStatus;
  /** What was found, with the numbers that matter. */
  detail: string;
  /** What staff should do, in plain words (set for failures and warnings). */
  fix?: string;
}

/** A whole doctor run. */
export interface DoctorReport {
  /** The device folder checked, or null for the machine alone. */
  deviceDir: string | null;
  checks: CheckResult[];
  counts: Record<CheckStatus, number>;
  /** True when no check failed (warnings do not count). */
  passed: boolean;
}

/** Build a result; the fix is left out when there is none. */
export function result(name: string, status: CheckStatus, detail: string, fix?: string): CheckResult {
  return fix ? { name, status, detail, fix } : { name, status, detail };
}

/** Run a check, turning anything it throws into a failure that names the check. */
export async function guarded(name: string, check: () => Promise<CheckResult | CheckResult[]> | CheckResult | CheckResult[]): Promise<CheckResult[]> {
  try {
    const r = await check();
    return Array.isArray(r) ? r : [r];
  } catch (e) {
    return [result(name, 'fail', `the check itself failed: ${(e as Error).message}`, 'run `hearth doctor --debug` and send the output to the study team')];
  }
}

/** The report of a list of results. */
export function reportOf(deviceDir: string | null, checks: CheckResult[]): DoctorReport {
  const counts: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) counts[c.status]++;
  return { deviceDir, checks, counts, passed: counts.fail === 0 };
}

const MARK: Record<CheckStatus, string> = { ok: '✓', warn: '!', fail: '✗', skip: '-' };

/** The report as text: one line per check, the fix indented under failures and warnings, a summary last. */
export function formatReport(report: DoctorReport): string[] {
  const width = Math.max(0, ...report.checks.map((c) => c.name.length));
  const lines = [`hearth doctor: ${report.deviceDir ?? 'this machine (no --device-dir: device checks skipped)'}`];
  for (const c of report.checks) {
    lines.push(`${MARK[c.status]} ${c.name.padEnd(width)}  ${c.detail}`);
    if (c.fix && (c.status === 'fail' || c.status === 'warn')) lines.push(`  ${' '.repeat(width)}  fix: ${c.fix}`);
  }
  const { ok, warn, fail, skip } = report.counts;
  lines.push(`${ok} ok, ${warn} warning${warn === 1 ? '' : 's'}, ${fail} failed, ${skip} skipped${fail ? '' : ' — ready'}`);
  return lines;
}

/** Bytes for people: 812 B, 4.2 MB, 17.3 GB. */
export function bytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) { v /= 1000; u++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}
