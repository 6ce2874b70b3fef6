/**
 * The pure engine: computation over columnar typed arrays with no I/O, no clock and no
 * protocol. Importable as `threadx-data/engine`.
 */
export * from '../../schemas/candles.ts';
export * from '../../schemas/intervals.ts';
export {
  resample,
  resampleAll,
  estimateBuckets,
  compareCandles,
  type CandleDiff,
} from './resample.ts';
export {
  detectGaps,
  fillGaps,
  isFillable,
  missingRanges,
  mergeRanges,
  subtractRanges,
} from './gaps.ts';
export {
  validateCandles,
  describeViolations,
  type ValidationReport,
  type Violation,
  type ViolationKind,
} from './validate.ts';
export { mergeCandles } from './merge.ts';
export { parseKlineCsv, parseKlineRows, toMs, KlineParseError } from './parse.ts';
export * from './indicators.ts';
