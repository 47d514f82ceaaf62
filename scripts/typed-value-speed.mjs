// Measures decodeTextValue on 1 000 000 values of each common logical type, one core, and
// prints milliseconds per million. Run after `npm run build`: node scripts/typed-value-speed.mjs
import { decoderFor, decodeTextValue } from '../dist/events/values/typed-value.js';

const N = 1_000_000;
const cases = [
  ['int32', { kind: 'int32' }, (i) => String((i * 7919) % 2_000_000_000 - 1_000_000_000)],
  ['int64', { kind: 'int64' }, (i) => String(BigInt(i) * 9_876_543_210n)],
  ['decimal(12,2)', { kind: 'decimal', precision: 12, scale: 2 }, (i) => `${i * 37}.${String(i % 100).padStart(2, '0')}`],
  ['float64', { kind: 'float64' }, (i) => String(i / 7)],
  ['bool', { kind: 'bool' }, (i) => (i % 2 ? 't' : 'f')],
  ['date', { kind: 'date' }, (i) => `${1900 + (i % 200)}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`],
  ['timestamp', { kind: 'timestamp' }, (i) => `2024-${String(1 + (i % 12)).padStart(2, '0')}-15 12:${String(i % 60).padStart(2, '0')}:07.${String(i % 1e6).padStart(6, '0')}`],
  ['timestamptz', { kind: 'timestamptz' }, (i) => `2024-${String(1 + (i % 12)).padStart(2, '0')}-15 12:${String(i % 60).padStart(2, '0')}:07.123456+05:30`],
  ['uuid', { kind: 'uuid' }, (i) => `a0eebc99-9c0b-4ef8-bb6d-${String(i).padStart(12, '0')}`],
  ['bytes (16)', { kind: 'bytes' }, (i) => `\\x${String(i).padStart(32, '0')}`],
  ['interval', { kind: 'interval' }, (i) => `${i % 5} years ${i % 11} mons ${i % 27} days ${String(i % 24).padStart(2, '0')}:05:06.5`],
  ['array<int32> (8)', { kind: 'array', element: { kind: 'int32' } }, (i) => `{${[0, 1, 2, 3, 4, 5, 6, 7].map((k) => i + k).join(',')}}`],
  ['array<text> (4)', { kind: 'array', element: { kind: 'text' } }, (i) => `{alpha,"b c",NULL,"d\\"${i}"}`],
];

for (const [name, type, make] of cases) {
  const texts = Array.from({ length: N }, (_, i) => make(i));
  for (const t of texts.slice(0, 1000)) decodeTextValue(type, t); // warm up
  const decode = decoderFor(type);
  let start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) decodeTextValue(type, texts[i]);
  const direct = Number(process.hrtime.bigint() - start) / 1e6;
  start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) decode(texts[i]);
  const bound = Number(process.hrtime.bigint() - start) / 1e6;
  console.log(`${name.padEnd(18)} decodeTextValue ${direct.toFixed(0).padStart(5)} ms   decoderFor ${bound.toFixed(0).padStart(5)} ms   per 1M values`);
}
