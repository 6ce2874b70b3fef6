/** The contract: intervals, the candle series, config and the registry. `threadx-data/schemas`. */
export * from './intervals.ts';
export * from './candles.ts';
export * from './common.ts';
export * from './config.ts';
export * from './registry.ts';
