/**
 * The export's documentation: `codebook.csv` (a REDCap-style data dictionary, one row per column) and
 * one BIDS-style JSON sidecar per table (per column: LongName, Description, Levels, Units).
 */
import { parquetType } from './encode.js';
import type { ColumnSpec, TableSpec } from './tables.js';

/** The columns of codebook.csv. */
export const CODEBOOK_COLUMNS = ['table', 'column', 'type', 'parquet_type', 'label', 'levels_or_units', 'identifier', 'free_text', 'source', 'description'] as const;

const TYPE_UNITS: Partial<Record<ColumnSpec['type'], string>> = {
  instant: 'UTC instant (ISO-8601 with Z in CSV)',
  local: 'ISO-8601 local time with UTC offset',
  date: 'local date YYYY-MM-DD',
};

/** A CSV field, quoted when it needs to be. */
function field(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** REDCap-style choices: "code, meaning | code, meaning". */
function levelsText(levels: Readonly<Record<string, string>>): string {
  return Object.entries(levels).map(([k, v]) => `${k === '' ? '(empty)' : k}, ${v}`).join(' | ');
}

/** codebook.csv for the tables written (only the columns each table has in this export). */
export function codebookCsv(tables: readonly { spec: TableSpec; columns: readonly ColumnSpec[] }[]): string {
  const lines = [CODEBOOK_COLUMNS.join(',')];
  for (const { spec, columns } of tables) {
    for (const c of columns) {
      const levelsOrUnits = c.levels ? levelsText(c.levels) : [c.units, TYPE_UNITS[c.type]].filter(Boolean).join('; ');
      lines.push([
        spec.name, c.name, c.type, parquetType(c.type), c.label, levelsOrUnits, c.identifier ? 'y' : '', c.freeText ? 'y' : '', c.source, c.description ?? '',
      ].map(field).join(','));
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The BIDS-style sidecar of one table: one entry per column. */
export function sidecar(columns: readonly ColumnSpec[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const c of columns) {
    const entry: Record<string, unknown> = {
      LongName: c.label,
      Description: [c.description, `Type ${c.type}${c.type === 'category' ? ' (text)' : ''}; missing values are empty in CSV and null in Parquet.`, `Source: ${c.source}.`]
        .filter(Boolean).join(' '),
    };
    if (c.levels) entry.Levels = { ...c.levels };
    const units = [c.units, TYPE_UNITS[c.type]].filter(Boolean).join('; ');
    if (units) entry.Units = units;
    if (c.identifier) entry.Identifier = true;
    if (c.freeText) entry.FreeText = true;
    out[c.name] = entry;
  }
  return out;
}
