/** Public surface of `data/export/`: `hearth export`'s tidy tables, codebook and Parquet/CSV writing. */
export {
  checkExportOptions, dateShiftDays, EXPORT_FORMATS, ExportError, exportData, type ExportFormat, type ExportOptions, type ExportProgress,
  type ExportSummary, type ScoringRule,
} from './export.js';
export { CODEBOOK_COLUMNS } from './codebook.js';
export { TABLE_NAMES, TABLES, type ColumnSpec, type ColumnType, type TableSpec } from './tables.js';
