import { describe, expect, it } from 'vitest';
import { CdcError, explainLostConnection, isLostConnection, isRetryable } from './errors.js';

describe('lost connections', () => {
  const terminated = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });

  it('recognises what pg and node report when a connection drops', () => {
    expect(isLostConnection(terminated)).toBe(true);
    expect(isLostConnection(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isLostConnection(new Error('Client has encountered a connection error and is not queryable'))).toBe(true);
    expect(isLostConnection(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isLostConnection(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isLostConnection(new CdcError('CONNECTION_LOST', 'x', { retryable: true }))).toBe(false);
  });

  it('wraps them as a retryable CONNECTION_LOST naming the connection, and leaves other errors alone', () => {
    const explained = explainLostConnection(terminated, 'the target at postgres://u:***@h/db');
    expect(explained).toBeInstanceOf(CdcError);
    expect(explained).toMatchObject({ code: 'CONNECTION_LOST', retryable: true, cause: terminated });
    expect((explained as Error).message).toBe('lost the connection to the target at postgres://u:***@h/db: terminating connection due to administrator command');
    const other = new Error('syntax error');
    expect(explainLostConnection(other, 'the target')).toBe(other);
  });

  it('a CdcError explaining a lost connection is retryable whatever its own code', () => {
    const lost = explainLostConnection(terminated, 'the target');
    expect(isRetryable(new CdcError('MIGRATION_FAILED', 'migration failed', { cause: lost }))).toBe(true);
    expect(isRetryable(new CdcError('MIGRATION_FAILED', 'migration failed', { cause: new Error('syntax error') }))).toBe(false);
  });
});
