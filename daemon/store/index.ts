/** The bank on disk: Parquet partitions, the registry, import and export. `threadx-data/store`. */
export {
  Bank,
  DataContractError,
  NotFoundError,
  type WriteResult,
  type DeriveResult,
  type BankOptions,
} from './bank.ts';
export { Layout, monthKey } from './layout.ts';
export { encodeCandles, decodeCandles, ParquetFormatError } from './parquet.ts';
export {
  readKlineFile,
  parseArchiveZip,
  parseArchiveName,
  verifyChecksum,
  ImportError,
} from './importer.ts';
export { exportCsv } from './export.ts';
export { loadConfig, parseConfigText, ConfigError } from './config.ts';
export { sha256 } from './registry.ts';
export { writeFileAtomic } from './atomic.ts';
