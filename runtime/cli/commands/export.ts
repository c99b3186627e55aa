import cliProgress from 'cli-progress';
import { Option, type Command } from 'commander';
import { exportData, TABLE_NAMES, type ExportProgress, type ScoringRule } from '../../../data/index.js';
import { BUNDLED_PROTOCOL, instrumentsOf, loadProtocol } from '../../../study-protocol/index.js';
import { hearthVersion } from '../version.js';

interface ExportCliOptions {
  db: string;
  out: string;
  format: string;
  tables?: string;
  deidentify?: boolean;
  keepText?: boolean;
  dateShift?: string;
  since?: string;
  partition?: 'participant';
  protocol?: string;
  force?: boolean;
  json?: boolean;
  reader: 'auto' | 'native' | 'js';
}

/** The protocol's scoring rules (reverse keys, scales, minimum answered), for `survey_scores`. */
export function scoringRules(protocolFile: string): ScoringRule[] {
  const { protocol } = loadProtocol(protocolFile);
  return [...instrumentsOf(protocol).values()].flatMap((inst) => {
    const items = new Map(inst.items.map((i) => [i.code, i]));
    return inst.scores.map((s) => ({
      instrument: inst.id, scoringVersion: inst.scoringVersion, score: s.name, method: s.method, minAnswered: s.min_answered,
      items: s.items.map((code) => {
        const it = items.get(code)!;
        return { code, min: it.scale.min, max: it.scale.max, reverse: it.reverse };
      }),
    }));
  });
}

/** One bar per table while rows are read, on a terminal only. */
function progressBars(): { update: (p: ExportProgress) => void; stop: () => void } {
  const bars = new cliProgress.MultiBar({
    format: '{table} {phase} [{bar}] {value}/{total} rows', hideCursor: true, clearOnComplete: false, stopOnComplete: false,
    stream: process.stdout,
  }, cliProgress.Presets.shades_classic);
  const byTable = new Map<string, cliProgress.SingleBar>();
  return {
    update: (p) => {
      const key = `${p.table}:${p.phase}`;
      let bar = byTable.get(key);
      if (!bar) {
        bar = bars.create(Math.max(p.total, 1), 0, { table: p.table.padEnd(20), phase: p.phase === 'read' ? 'read ' : 'write' });
        byTable.set(key, bar);
      }
      bar.setTotal(Math.max(p.total, 1));
      bar.update(Math.min(p.done, p.total) || (p.total === 0 ? 1 : 0));
    },
    stop: () => bars.stop(),
  };
}

/** `hearth export`: tidy tables with a codebook, as CSV and Parquet, from a device or study database. */
export function register(program: Command): void {
  program
    .command('export')
    .description('write tidy tables (CSV and/or Parquet) with a codebook and JSON sidecars from a device or study database')
    .requiredOption('--db <file>', 'device or study database (SQLite)')
    .requiredOption('--out <dir>', 'folder to write (refused if it exists, unless --force)')
    .option('--format <list>', `comma-separated formats: csv, parquet`, 'csv,parquet')
    .option('--tables <list>', `comma-separated tables (default all): ${TABLE_NAMES.join(', ')}`)
    .option('--deidentify', 'drop identifier columns and free text')
    .option('--keep-text', 'with --deidentify, keep free text')
    .option('--date-shift <seed>', 'shift each participant\'s dates by a per-participant number of weeks derived from this secret seed')
    .option('--since <date>', 'only rows on or after this local date (YYYY-MM-DD)')
    .option('--partition <by>', 'write table/participant_id=P01/part-0.parquet (hive layout); only "participant"')
    .option('--protocol <file>', 'study protocol whose scoring rules give survey_scores (default: the bundled example study)')
    .option('--force', 'replace an existing --out folder (atomically)')
    .addOption(new Option('--reader <how>', 'how rows leave SQLite: native (the built stager), js (better-sqlite3, slower) or auto').choices(['auto', 'native', 'js']).default('auto'))
    .option('--json', 'print one JSON summary')
    .action(async (o: ExportCliOptions) => {
      const bars = process.stdout.isTTY && !o.json ? progressBars() : undefined;
      try {
        const summary = await exportData({
          db: o.db, out: o.out, formats: o.format.split(',').map((f) => f.trim()).filter(Boolean),
          tables: o.tables?.split(',').map((t) => t.trim()).filter(Boolean), deidentify: o.deidentify, keepText: o.keepText,
          dateShiftSeed: o.dateShift, since: o.since, partition: o.partition, force: o.force,
          scoring: scoringRules(o.protocol ?? BUNDLED_PROTOCOL), generator: `hearth ${hearthVersion()}`, onProgress: bars?.update,
          reader: o.reader,
        });
        bars?.stop();
        if (o.json) {
          console.log(JSON.stringify(summary));
          return;
        }
        const rows = summary.tables.reduce((n, t) => n + t.rows, 0);
        console.log(`exported ${summary.tables.length} tables (${rows} rows, ${summary.formats.join(' + ')}) from ${summary.db} to ${summary.out} in ${summary.seconds} s`);
        for (const t of summary.tables) console.log(`  ${t.name.padEnd(20)} ${String(t.rows).padStart(9)} rows  ${t.files.join(', ')}`);
        for (const w of summary.warnings) console.log(`warning: ${w}`);
      } finally {
        bars?.stop();
      }
    });
}
