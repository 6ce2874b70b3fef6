// Stores minutes in a bank's tail in a loop, as a watcher does, announcing each minute on stdout
// once `append` resolved (reported stored), and folds every few minutes, until it is killed.
import { Bank } from '../../daemon/store/bank.ts';
import { acquireBankLock } from '../../daemon/store/lock.ts';
import { sliceCandles } from '../../schemas/candles.ts';
import { synth1m } from '../helpers/synth.ts';

const dir = process.argv[2];
const T0 = Number(process.argv[3]);
const got = await acquireBankLock(dir, 'tail-child');
if (!got.acquired) throw new Error('bank locked');
const bank = await Bank.open(dir, { lock: got.lock });
const all = synth1m(T0, 20_000, 5);
const next = (bank.span1m('BTCUSDT')?.last ?? T0 - 60_000) + 60_000;
for (let i = (next - T0) / 60_000; ; i++) {
  await bank.tails.append('BTCUSDT', sliceCandles(all, i, i + 1));
  process.stdout.write(`stored ${all.openTime[i]}\n`);
  if (i % 7 === 6) {
    await bank.tails.fold('BTCUSDT', async (c) => {
      await bank.write1m('BTCUSDT', c, 'stream');
    });
    process.stdout.write(`folded ${all.openTime[i]}\n`);
  }
}
