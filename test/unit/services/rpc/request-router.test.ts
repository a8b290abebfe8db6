import { describe, expect, it } from 'vitest';
import { RequestRouter, type RequestHandlers } from '../../../../electron/services/rpc/request-router';
import { silentLogger } from '../../../../electron/services/logger';
import { requestChannelNames } from '../../../../shared/contract/channels';
import { DepotError } from '../../../../shared/errors';
import { defaultSettings } from '../../../../shared/domain/settings';

/** Handlers that only record that they ran: the router is what is under test. */
function recordingHandlers(calls: string[], overrides: Partial<RequestHandlers> = {}): RequestHandlers {
  const handlers = {} as Record<string, (input: unknown) => unknown>;
  for (const channel of requestChannelNames) {
    handlers[channel] = (input: unknown) => {
      calls.push(channel);
      return input;
    };
  }
  return { ...(handlers as unknown as RequestHandlers), ...overrides };
}

const context = { origin: 'test' } as const;

describe('RequestRouter', () => {
  it('rejects an unknown channel with the typed error and calls no service', async () => {
    const calls: string[] = [];
    const router = new RequestRouter(recordingHandlers(calls), silentLogger);
    for (const channel of ['no.such.channel', '__proto__', 'constructor', 42, null]) {
      const result = await router.dispatch(channel, {}, context);
      expect(result).toEqual({ ok: false, error: { code: 'UNKNOWN_CHANNEL', message: expect.any(String) } });
    }
    expect(calls).toEqual([]);
  });

  it('rejects malformed payloads before any service runs', async () => {
    const calls: string[] = [];
    const router = new RequestRouter(recordingHandlers(calls), silentLogger);
    const bad: Array<[string, unknown]> = [
      ['jobs.get', { id: 42 }],
      ['jobs.get', {}],
      ['jobs.get', 'not an object'],
      ['jobs.start', { kind: 'format-disk', params: {} }],
      ['jobs.start', { kind: 'data-folder-check', params: { sizeMiB: -1 } }],
      ['jobs.start', { kind: 'data-folder-check', params: { sizeMiB: 1.5 } }],
      ['settings.update', { theme: 'purple' }],
      ['settings.update', { unknownKey: true }],
      ['app.health', { extra: 1 }],
    ];
    for (const [channel, input] of bad) {
      const result = await router.dispatch(channel, input, context);
      expect(result.ok, `${channel} ${JSON.stringify(input)}`).toBe(false);
      if (!result.ok) expect(result.error.code).toBe('VALIDATION_FAILED');
    }
    expect(calls).toEqual([]);
  });

  it('passes parsed input (with defaults) to the handler and returns its checked output', async () => {
    const seen: unknown[] = [];
    const router = new RequestRouter(
      recordingHandlers([], {
        'jobs.list': (input) => {
          seen.push(input);
          return [];
        },
        'settings.get': () => defaultSettings,
      }),
      silentLogger,
    );
    expect(await router.dispatch('jobs.list', {}, context)).toEqual({ ok: true, result: [] });
    expect(seen).toEqual([{ limit: 100 }]);
    expect(await router.dispatch('settings.get', undefined, context)).toEqual({ ok: true, result: defaultSettings });
  });

  it('turns errors into envelopes without stacks or internals', async () => {
    const router = new RequestRouter(
      recordingHandlers([], {
        'jobs.get': () => {
          throw new DepotError('NOT_FOUND', 'No job with id x.');
        },
        'jobs.cancel': () => {
          throw new Error('SQLITE_IOERR at /secret/path');
        },
        // Output outside the contract must never cross the boundary.
        'settings.get': () => ({ theme: 'neon' }) as never,
      }),
      silentLogger,
    );
    expect(await router.dispatch('jobs.get', { id: 'x' }, context)).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'No job with id x.' } });
    const internal = await router.dispatch('jobs.cancel', { id: 'x' }, context);
    expect(internal.ok).toBe(false);
    if (!internal.ok) {
      expect(internal.error.code).toBe('INTERNAL');
      expect(JSON.stringify(internal)).not.toContain('/secret/path');
    }
    const invalid = await router.dispatch('settings.get', {}, context);
    expect(invalid).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });
});
