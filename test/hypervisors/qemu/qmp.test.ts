import { describe, expect, test } from 'vitest';
import { QmpError } from '../../../src/model/errors.js';
import { parseQmpLine, QmpClient } from '../../../src/hypervisors/qemu/qmp.js';
import { loadTranscript, QmpReplay } from '../../fakes/qmp-replay.js';

const options = { host: 'src', socket: '/run/vm/qmp.sock' };

describe(parseQmpLine, () => {
  test('classifies every line of a real QEMU 7.2 transcript', () => {
    const kinds = loadTranscript('migrate-completed.source.txt')
      .filter((l) => l.direction === '<')
      .map((l) => parseQmpLine(l.text).kind);
    expect(kinds[0]).toBe('greeting');
    expect(kinds).toContain('return');
    expect(kinds).toContain('event');
  });

  test('events carry the host timestamp in ms with µs precision', () => {
    const message = parseQmpLine('{"timestamp": {"seconds": 1795602417, "microseconds": 824495}, "event": "STOP"}');
    expect(message).toEqual({ kind: 'event', event: { event: 'STOP', data: {}, epochMs: 1795602417824.495 } });
  });

  test('rejects what is not QMP', () => {
    expect(() => parseQmpLine('garbage')).toThrow(/not JSON/);
    expect(() => parseQmpLine('[1]')).toThrow(/not a JSON object/);
    expect(() => parseQmpLine('{"hello": 1}')).toThrow(/unknown QMP message/);
  });

  // Found by test/properties/qmp.prop.test.ts.
  test('what is not QMP is a typed protocol error, never a TypeError or a NaN time', () => {
    for (const line of ['garbage', '[1]', '{"hello": 1}', '{"QMP": {"version": {}}}', '{"QMP": {"version": {"qemu": {"major": "7"}}}}']) {
      expect(() => parseQmpLine(line), line).toThrow(expect.objectContaining({ name: 'MigbenchError', code: 'MB_QMP_PROTOCOL' }));
    }
    // A timestamp that is no number: it was epochMs NaN, Infinity, or a TypeError.
    for (const seconds of ['"x"', '{}', '1e400', '{"toString": 1}']) {
      expect(() => parseQmpLine(`{"event": "STOP", "timestamp": {"seconds": ${seconds}, "microseconds": 0}}`), seconds).toThrow(/STOP with a timestamp that is not a time/);
    }
    expect(parseQmpLine('{"event": "STOP"}')).toMatchObject({ event: { epochMs: 0 } });
    expect(parseQmpLine('{"error": {"class": {"toString": 1}, "desc": 5}, "id": "mb-1"}')).toEqual({ kind: 'error', id: 'mb-1', errorClass: '{"toString":1}', desc: '5' });
    expect(parseQmpLine('{"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 22}}, "capabilities": ["oob", 1, null]}}')).toEqual({
      kind: 'greeting',
      greeting: { version: { qemu: { major: 7, minor: 2, micro: 22 }, package: '' }, capabilities: ['oob'] },
    });
  });
});

describe(QmpClient, () => {
  test('negotiates, runs commands and collects events from a recorded migration', async () => {
    const replay = new QmpReplay(loadTranscript('migrate-completed.source.txt'), { lenientPolling: true });
    const qmp = await QmpClient.connect(replay, options);
    expect(qmp.greeting?.version.qemu).toEqual({ major: 7, minor: 2, micro: 22 });
    await qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'events', state: true }] });
    const params = await qmp.execute<Record<string, unknown>>('query-migrate-parameters');
    expect(params['downtime-limit']).toBe(300);
    await qmp.execute('query-migrate-capabilities');
    await qmp.execute('migrate', { uri: 'tcp:10.78.0.12:50000' });
    let status = '';
    while (status !== 'completed') status = (await qmp.execute<{ status: string }>('query-migrate')).status;
    const stop = await qmp.waitForEvent('STOP', 1000);
    expect(stop.epochMs).toBeGreaterThan(1.7e12);
    expect(qmp.events.map((e) => e.event)).toEqual(expect.arrayContaining(['MIGRATION', 'MIGRATION_PASS', 'STOP']));
    qmp.close();
  });

  test('a QMP error becomes a QmpError with class, command and host', async () => {
    const replay = new QmpReplay(loadTranscript('migrate-failed.source.txt'), { lenientPolling: true });
    const qmp = await QmpClient.connect(replay, options);
    await qmp.execute('migrate-set-capabilities', { capabilities: [] });
    await qmp.execute('migrate', { uri: 'tcp:10.78.0.12:1' });
    let info: { status: string; 'error-desc'?: string } = { status: '' };
    while (info.status !== 'failed') info = await qmp.execute('query-migrate');
    expect(info['error-desc']).toMatch(/Connection refused/);
    const unknown = await qmp.execute('no-such-command').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(QmpError);
    expect(unknown).toMatchObject({ code: 'MB_QMP_ERROR', errorClass: 'CommandNotFound', command: 'no-such-command', host: 'src' });
    await expect(qmp.execute('migrate-set-parameters', { 'downtime-limit': -5 })).rejects.toMatchObject({
      errorClass: 'GenericError',
      message: expect.stringContaining("src: QMP migrate-set-parameters (GenericError): Parameter 'downtime_limit'"),
    });
    qmp.close();
  });

  test('a connection that drops fails pending and later commands with MB_QMP_CLOSED', async () => {
    const replay = new QmpReplay(loadTranscript('migrate-completed.source.txt'));
    const qmp = await QmpClient.connect(replay, options);
    const pending = qmp.execute('query-status', undefined, { timeoutMs: 5000 });
    replay.destroy();
    await expect(pending).rejects.toMatchObject({ code: 'MB_QMP_CLOSED' });
    await expect(qmp.execute('query-status')).rejects.toMatchObject({ code: 'MB_QMP_CLOSED' });
  });

  test('a QEMU that never greets times out', async () => {
    const silent = new QmpReplay([]);
    await expect(QmpClient.connect(silent, { ...options, timeoutMs: 50 })).rejects.toMatchObject({ code: 'MB_QMP_TIMEOUT' });
  });
});
