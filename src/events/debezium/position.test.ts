import { describe, expect, it } from 'vitest';
import { CdcError } from '../../errors.js';
import { InvalidField } from './errors.js';
import { parseJson, type JsonObject } from './json.js';
import { binlogFileNumber, compareSourcePositions, connectorOf, parseSqlServerLsn, sourcePosition, type SourcePosition } from './position.js';
import { SourceFields } from './source-fields.js';

const at = { topic: 't', partition: 2, offset: 41n };
function position(source: object | string, broker = at): SourcePosition {
  const text = typeof source === 'string' ? source : JSON.stringify(source);
  const fields = new SourceFields(parseJson(text) as JsonObject, ['payload', 'source']);
  return sourcePosition(fields, connectorOf(fields), broker);
}
const sorted = (positions: SourcePosition[]) => [...positions].sort(compareSourcePositions).map((p) => p.text);

describe('SQL Server positions', () => {
  it('reads LSNs as one number, so numeric order is log order', () => {
    expect(parseSqlServerLsn('00000025:00000d98:0002')).toBe((0x25n << 48n) | (0xd98n << 16n) | 2n);
    expect(parseSqlServerLsn('00000027:00000ac0:0007')! > parseSqlServerLsn('00000025:00000d98:00a2')!).toBe(true);
    expect(parseSqlServerLsn('0000002b:000004f8:0005')! > parseSqlServerLsn('00000027:00000db0:0007')!).toBe(true);
    expect(parseSqlServerLsn('25:d98:2')).toBeUndefined();
  });

  it('orders by commit_lsn, then change_lsn, then event_serial_no', () => {
    const p = (commit: string, change: string | null, serial: number | string | null) =>
      position({ connector: 'sqlserver', commit_lsn: commit, change_lsn: change, event_serial_no: serial });
    const updateBefore = p('00000027:00000ac0:0007', '00000027:00000ac0:0002', 1);
    const updateAfter = p('00000027:00000ac0:0007', '00000027:00000ac0:0002', '2'); // a string in some versions
    const laterChange = p('00000027:00000ac0:0007', '00000027:00000ac0:0003', 1);
    const laterCommit = p('00000027:00000db0:0007', '00000027:00000db0:0005', 1);
    const snapshot = p('00000025:00000d98:00a2', null, null);
    expect(updateAfter.sortKey).toEqual([(0x27n << 48n) | (0xac0n << 16n) | 7n, (0x27n << 48n) | (0xac0n << 16n) | 2n, 2n]);
    expect(sorted([laterCommit, updateAfter, snapshot, laterChange, updateBefore])).toEqual([
      snapshot.text,
      updateBefore.text,
      updateAfter.text,
      laterChange.text,
      laterCommit.text,
    ]);
    expect(updateAfter.text).toBe('commit_lsn 00000027:00000ac0:0007, change_lsn 00000027:00000ac0:0002, event_serial_no 2');
  });

  it('names a malformed LSN by its path', () => {
    expect(() => position({ connector: 'sqlserver', commit_lsn: '27:ac0' })).toThrow(InvalidField);
    expect(() => position({ connector: 'sqlserver', commit_lsn: '27:ac0' })).toThrow(/^payload\.source\.commit_lsn: expected a SQL Server LSN/);
  });
});

describe('MySQL positions', () => {
  it('orders by binlog file number (not name), position, row', () => {
    expect(binlogFileNumber('mysql-bin.000003')).toBe(3n);
    expect(binlogFileNumber('binlog.1000000')).toBe(1000000n);
    const p = (file: string, pos: number, row: number) => position({ connector: 'mysql', file, pos, row });
    // 'mysql-bin.999999' sorts after 'mysql-bin.1000000' as text, but the server rotated to the latter later.
    const a = p('mysql-bin.999999', 9000, 0);
    const b = p('mysql-bin.1000000', 4, 0);
    const c = p('mysql-bin.1000000', 4, 1);
    const d = p('mysql-bin.1000000', 120, 0);
    expect(sorted([d, c, b, a])).toEqual([a.text, b.text, c.text, d.text]);
    expect(a.sortKey).toEqual([999999n, 9000n, 0n]);
    expect(c.text).toBe('mysql-bin.1000000:4 row 1');
  });

  it('falls back to the broker position when there is no binlog file (Flink CDC snapshots)', () => {
    const p = position({ connector: 'mysql', file: '', pos: 0, row: 0 });
    expect(p).toEqual({ connector: 'broker', sortKey: [2n, 41n], text: 't partition 2 offset 41' });
  });

  it('needs a file number and a pos', () => {
    expect(() => position({ connector: 'mysql', file: 'binlog', pos: 4 })).toThrow(/payload\.source\.file: expected a binlog file name/);
    expect(() => position({ connector: 'mysql', file: 'binlog.000001' })).toThrow(/payload\.source\.pos/);
  });
});

describe('PostgreSQL positions', () => {
  it('uses [last commit LSN, LSN] from sequence, so interleaved transactions order by commit', () => {
    // T1 commits first but its change is at a higher LSN than T2's change.
    const t1 = position({ connector: 'postgresql', lsn: 5000, sequence: '["4000","5000"]' });
    const t2 = position({ connector: 'postgresql', lsn: 4500, sequence: '["5100","4500"]' });
    expect(sorted([t2, t1])).toEqual([t1.text, t2.text]);
    expect(t1.sortKey).toEqual([4000n, 5000n]);
    expect(t1.text).toBe('lsn 0/1388 (last commit 0/FA0)');
  });

  it('uses the LSN alone without sequence, and 0 for a null last commit', () => {
    expect(position({ connector: 'postgresql', lsn: 24023128 }).sortKey).toEqual([24023128n]);
    expect(position({ connector: 'postgresql', lsn: 26505352, sequence: '[null,"26505352"]' }).sortKey).toEqual([0n, 26505352n]);
    // An LSN beyond 2^53 stays exact.
    expect(position('{"connector":"postgresql","lsn":18446744073709551615}').sortKey).toEqual([18446744073709551615n]);
  });

  it('reads sequence the same in its usual form and in any other JSON form', () => {
    const forms = ['["4000","5000"]', '[ "4000" , "5000" ]', '[4000,5000]', '["18446744073709551615","5000"]', '[null,"5000"]'];
    const expected = [[4000n, 5000n], [4000n, 5000n], [4000n, 5000n], [18446744073709551615n, 5000n], [0n, 5000n]];
    // Without lsn the position is the sequence's own [last commit, LSN].
    forms.forEach((sequence, i) => expect(position({ connector: 'postgresql', sequence }).sortKey, sequence).toEqual(expected[i]));
    expect(position({ connector: 'postgresql', lsn: 7, sequence: '["4000",null]' }).sortKey).toEqual([4000n, 7n]);
    expect(position({ connector: 'postgresql', lsn: 7, sequence: '[null,null]' }).sortKey).toEqual([0n, 7n]);
  });

  it('rejects a malformed sequence', () => {
    expect(() => position({ connector: 'postgresql', lsn: 1, sequence: '[1' })).toThrow(/payload\.source\.sequence/);
    expect(() => position({ connector: 'postgresql', lsn: 1, sequence: '["a","b"]' })).toThrow(/decimal strings/);
  });
});

describe('connector inference and comparison', () => {
  it('infers the connector of old source blocks from their fields or schema name', () => {
    const fields = (o: object) => new SourceFields(parseJson(JSON.stringify(o)) as JsonObject, []);
    expect(connectorOf(fields({ file: 'mysql-bin.000003', pos: 4 }))).toBe('mysql');
    expect(connectorOf(fields({ lsn: 1 }))).toBe('postgresql');
    expect(connectorOf(fields({ commit_lsn: null }))).toBe('sqlserver');
    expect(connectorOf(fields({ name: 'x' }), 'io.debezium.connector.mysql.Source')).toBe('mysql');
    expect(connectorOf(fields({ name: 'x' }))).toBeUndefined();
  });

  it('falls back to the broker for unknown connectors and refuses to compare across orders', () => {
    const oracle = position({ connector: 'oracle', scn: '123' });
    expect(oracle.connector).toBe('broker');
    const pg = position({ connector: 'postgresql', lsn: 1 });
    expect(() => compareSourcePositions(pg, oracle)).toThrow(CdcError);
    expect(() => compareSourcePositions(pg, oracle)).toThrow(/cannot order a postgresql position/);
  });

  it('fails when neither the source nor the broker gives a position', () => {
    expect(() => position({ connector: 'oracle' }, { topic: 't' } as typeof at)).toThrow(/no position/);
  });

  it('sorts a key that is a prefix of another first', () => {
    const a: SourcePosition = { connector: 'x', sortKey: [1n], text: 'a' };
    const b: SourcePosition = { connector: 'x', sortKey: [1n, 0n], text: 'b' };
    expect(compareSourcePositions(a, b)).toBeLessThan(0);
    expect(compareSourcePositions(b, b)).toBe(0);
  });
});
