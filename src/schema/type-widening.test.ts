import { describe, expect, it } from 'vitest';
import { isWideningTypeChange } from './type-widening.js';

describe('isWideningTypeChange', () => {
  it.each([
    ['character varying(160)', 'character varying(200)'],
    ['character varying(160)', 'character varying(160)'],
    ['character varying(160)', 'character varying'],
    ['character varying(160)', 'text'],
    ['varchar(10)', 'text'],
    ['character varying', 'text'],
    ['text', 'character varying'],
    ['numeric(10,2)', 'numeric(12,2)'],
    ['numeric(10,2)', 'numeric'],
    ['decimal(5)', 'numeric(9,0)'],
    ['smallint', 'integer'],
    ['integer', 'bigint'],
    ['int2', 'int8'],
    ['int4', 'integer'],
    ['integer', 'numeric(12,2)'],
    ['real', 'double precision'],
    ['float4', 'float8'],
    ['timestamp(3) without time zone', 'timestamp(6) without time zone'],
    ['timestamp(3) without time zone', 'timestamp without time zone'],
    ['timestamp(0) with time zone', 'timestamptz'],
    ['time(2) without time zone', 'time(4) without time zone'],
    ['character varying(10)[]', 'text[]'],
    ['integer[]', 'bigint[]'],
  ])('%s → %s widens', (from, to) => {
    expect(isWideningTypeChange(from, to)).toBe(true);
  });

  it.each([
    ['character varying(200)', 'character varying(160)'],
    ['text', 'character varying(200)'],
    ['numeric(12,2)', 'numeric(10,2)'],
    ['numeric(10,2)', 'numeric(12,4)'],
    ['numeric', 'numeric(38,10)'],
    ['bigint', 'integer'],
    ['integer', 'smallint'],
    ['integer', 'numeric(9,0)'],
    ['double precision', 'real'],
    ['integer', 'real'],
    ['integer', 'text'],
    ['text', 'integer'],
    ['timestamp(6) without time zone', 'timestamp(3) without time zone'],
    ['timestamp without time zone', 'timestamp with time zone'],
    ['date', 'timestamp without time zone'],
    ['character(10)', 'character(20)'],
    ['integer[]', 'integer'],
    ['integer', 'integer[]'],
    ['uuid', 'text'],
  ])('%s → %s does not', (from, to) => {
    expect(isWideningTypeChange(from, to)).toBe(false);
  });
});
