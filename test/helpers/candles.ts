export { concatCandles } from '../../schemas/candles.ts';
