import { describe, expect, it } from 'vitest';
import { checkExternalUrl, createOpenExternal } from '../../../electron/shell/open-external';
import { createRecordingLogger, FakeShell } from './fake-electron';

describe('openExternal helper', () => {
  it('refuses everything but https, with the reason logged, and never reaches the OS', async () => {
    const shell = new FakeShell();
    const logger = createRecordingLogger();
    const open = createOpenExternal({ shell, logger });
    const refused = [
      'http://example.com/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,hi',
      'smb://server/share',
      'ms-msdt:/id PCWDiagnostic',
      'https://user:secret@example.com/',
      'not a url',
      '',
    ];
    for (const url of refused) expect(await open(url), url).toBe(false);
    expect(shell.opened).toEqual([]);
    expect(logger.lines).toHaveLength(refused.length);
    expect(logger.lines[0]).toMatch(/refused .*scheme http: is not allowed/);
    expect(logger.lines[1]).toMatch(/scheme file:/);
    expect(logger.lines[2]).toMatch(/scheme javascript:/);
  });

  it('opens https URLs', async () => {
    const shell = new FakeShell();
    const open = createOpenExternal({ shell, logger: createRecordingLogger() });
    expect(await open('https://example.com/docs?q=1#a')).toBe(true);
    expect(shell.opened).toEqual(['https://example.com/docs?q=1#a']);
  });

  it('honours a host allowlist when one is given', async () => {
    const shell = new FakeShell();
    const open = createOpenExternal({ shell, logger: createRecordingLogger(), allowedHosts: ['Docs.Example.com'] });
    expect(await open('https://docs.example.com/start')).toBe(true);
    expect(await open('https://evil.example/')).toBe(false);
    expect(await open('https://docs.example.com.evil.example/')).toBe(false);
    expect(shell.opened).toEqual(['https://docs.example.com/start']);
  });

  it('treats non-strings as refused', () => {
    expect(checkExternalUrl(42)).toEqual({ ok: false, reason: 'not a URL' });
    expect(checkExternalUrl(`https://example.com/${'a'.repeat(3000)}`).ok).toBe(false);
  });

  it('reports a failure of the OS to open the link instead of throwing', async () => {
    const logger = createRecordingLogger();
    const open = createOpenExternal({
      shell: {
        openExternal: async () => {
          throw new Error('no handler');
        },
      },
      logger,
    });
    expect(await open('https://example.com/')).toBe(false);
    expect(logger.lines.join('\n')).toMatch(/could not open .*no handler/);
  });
});
