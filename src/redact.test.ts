/**
 * `redactText` and `redactValue` (issue 11, item 19): secrets and row values go, identifiers stay.
 */
import { describe, expect, it } from 'vitest';
import { redactText, redactValue, redactedMessage } from './redact.js';

const SECRET = 'S3cr3t-M4rker';
const ROW = 'R0w-M4rker';

describe('redactText', () => {
  it.each([
    [`cannot connect to the source at postgres://cdc:${SECRET}@127.0.0.1:5432/x`, 'postgres://cdc:***@127.0.0.1:5432/x'],
    [`postgres://cdc:p@ss@${SECRET}@h/db`, 'postgres://cdc:***@h/db'],
    [`postgres://cdc@h:5432/x?sslmode=disable&password=${SECRET}&x=1`, 'postgres://cdc@h:5432/x?sslmode=disable&password=***&x=1'],
    [`postgres://cdc@h/x?sslpassword=${SECRET}`, 'sslpassword=***'],
    [`host=h password='${SECRET} x' dbname=x`, 'host=h password=*** dbname=x'],
    [`nats://u:${SECRET}@127.0.0.1:4222,nats://${SECRET}@h2:4222`, 'nats://u:***@127.0.0.1:4222,nats://***@h2:4222'],
    [`tls://${SECRET}@h:4222`, 'tls://***@h:4222'],
    [`https://h/x?token=${SECRET}`, 'https://h/x?token=***'],
    [`{"password":"${SECRET}"}`, '"password":'],
    [`{"storage":{"secret_access_key":"${SECRET}"}}`, '"secret_access_key":"***"'],
    [`{"secretAccessKey": "${SECRET}"}`, '"secretAccessKey": '],
    [`AWS_SECRET_ACCESS_KEY=${SECRET} cdc run`, 'AWS_SECRET_ACCESS_KEY=*** cdc run'],
  ])('hides the secret in %s', (text, kept) => {
    const out = redactText(text);
    expect(out).not.toContain(SECRET);
    expect(out).toContain(kept);
    expect(redactText(out)).toBe(out);
  });

  it.each([
    `Failing row contains (1, ${ROW}, null).`,
    `Key (id, v)=(1, ${ROW}) already exists.`,
    `COPY t, line 3, column v: "${ROW}"`,
    `COPY t, line 3: "1\t${ROW}"`,
    `invalid input syntax for type integer: "${ROW}"`,
    `value "${ROW}" is out of range for type integer`,
    `malformed array literal: "{${ROW}"`,
    `cannot read "${ROW}" as date: expected YYYY-MM-DD`,
    `invalid byte sequence for encoding "UTF8": 0x00 ${ROW}`,
    `JSON data, line 1: {"a": ${ROW}`,
    `Token "${ROW}" is invalid.`,
  ])('hides the row value in %s', (text) => {
    expect(redactText(text)).not.toContain(ROW);
  });

  it.each([
    'new row for relation "t" violates check constraint "c"',
    'relation "public.we""ird" does not exist',
    'cannot connect to the source at postgres://postgres@127.0.0.1:5432/x',
    'column "Ünï cöde.x" of relation "a b" does not exist',
  ])('keeps %s as it is', (text) => {
    expect(redactText(text)).toBe(text);
  });
});

describe('redactValue', () => {
  it('redacts strings in objects, arrays and errors, with their cause, detail and stack', () => {
    const cause = Object.assign(new Error(`connect to nats://u:${SECRET}@h failed`), { code: 'ECONNREFUSED' });
    const error = Object.assign(new Error(`Failing row contains (${ROW})`, { cause }), { detail: `Key (id)=(${ROW}) already exists.` });
    const value = redactValue({ url: `postgres://u:${SECRET}@h/db`, list: [`?password=${SECRET}`], error, n: 3 });
    const text = JSON.stringify(value);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(ROW);
    expect(value).toMatchObject({ n: 3, error: { type: 'Error', cause: { code: 'ECONNREFUSED' } } });
    expect(redactedMessage(error)).toBe('Failing row contains (…)');
  });
});
