// Writes to a bank in a loop, announcing each step on stdout, until it is killed.
import { Bank } from '../../daemon/store/bank.ts';
import { synth1m } from '../helpers/synth.ts';
import { sliceCandles } from '../../schemas/candles.ts';

const dir = process.argv[2];
const bank = await Bank.open(dir);
const JAN = Date.UTC(2024, 0, 1);
const base = synth1m(JAN, 70 * 1440, 11);
for (let round = 0; ; round++) {
  // Alternate between two versions of the data so every round rewrites files.
  const c = synth1m(JAN, 70 * 1440, 11 + (round % 2));
  process.stdout.write(`round ${round}\n`);
  await bank.write1m(
    'BTCUSDT',
    round % 3 === 2 ? sliceCandles(base, 0, 40 * 1440) : c,
    `round${round}`,
  );
  process.stdout.write(`wrote ${round}\n`);
  await bank.derive('BTCUSDT', ['1h', '1d']);
  process.stdout.write(`derived ${round}\n`);
}
