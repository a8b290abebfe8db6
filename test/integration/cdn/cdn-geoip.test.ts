import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCore } from '../../../electron/services/composition-root';
import { silentLogger } from '../../../electron/services/logger';
import { openGeoIpDatabase } from '../../../electron/services/cdn/geoip-database';
import type { BestUrlAnswer, CdnSectionInput } from '../../../shared/domain/cdn';
import { writeMmdb } from '../../support/mmdb-writer';
import { runCliProcess } from '../../support/cli-process';
import { makeTempDir } from '../../support/temp-dir';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** GeoLite2-City-shaped records (MaxMind's own test networks): London with coordinates, an Asian block with a continent only. */
function geoDatabase(dir: string): string {
  const file = path.join(dir, 'GeoLite2-City.mmdb');
  writeFileSync(
    file,
    writeMmdb([
      { cidr: '81.2.69.0/24', data: { continent: { code: 'EU', names: { en: 'Europe' } }, country: { iso_code: 'GB' }, location: { latitude: 51.5142, longitude: -0.0931 } } },
      { cidr: '175.16.199.0/24', data: { continent: { code: 'AS', names: { en: 'Asia' } }, country: { iso_code: 'CN' } } },
      { cidr: '10.9.0.0/16', data: { continent: { code: 'NA' }, location: { latitude: 37.751, longitude: -97.822 } } },
    ]),
  );
  return file;
}

const yaml = (maxmind: string): string => `
cdn:
  provider: varnish
  origin: { storage: registry }
  edges:
    - { id: lon, region: eu-west-2, endpoint: "https://lon.cdn.example.com" }
    - { id: iad, region: us-east-1, endpoint: "https://iad.cdn.example.com" }
    - { id: sin, region: ap-southeast-1, endpoint: "https://sin.cdn.example.com" }
  geo:
    cidr_regions: [{ cidr: 10.9.8.0/24, region: ap-southeast-1 }]
    maxmind_db: ${maxmind}
`;

describe('client IP → region through a MaxMind GeoLite2 file', () => {
  it('reads coordinates (City) or the continent (Country), and the CIDR table wins over it', async () => {
    const temp = makeTempDir('torsh-cdn-geoip-');
    cleanups.push(temp.cleanup);
    const lookup = await openGeoIpDatabase(geoDatabase(temp.dir));
    expect(lookup('81.2.69.160')).toBe('51.5142,-0.0931');
    expect(lookup('175.16.199.7')).toBe('ap-southeast-1');
    expect(lookup('8.8.8.8')).toBeNull();
    expect(lookup('2001:db8::1')).toBeNull();

    const core = createCore({ dataDir: path.join(temp.dir, 'data'), shell: 'headless', logger: silentLogger });
    cleanups.push(() => core.close());
    // A relative maxmind_db is relative to the config's folder.
    await core.cdn.replaceSection(yamlSection('./GeoLite2-City.mmdb'), temp.dir);
    const best = async (clientIp: string): Promise<BestUrlAnswer> => core.cdn.bestUrl({ name: 'vision/resnet', version: '1.0.0', clientIp });
    expect(await best('81.2.69.160')).toMatchObject({ clientRegion: '51.5142,-0.0931', regionSource: 'maxmind', edgeId: 'lon' });
    expect(await best('175.16.199.7')).toMatchObject({ clientRegion: 'ap-southeast-1', regionSource: 'maxmind', edgeId: 'sin' });
    // 10.9.8.0/24 is in the CIDR table (Singapore) and in the MaxMind file (North America): the table wins.
    expect(await best('10.9.8.1')).toMatchObject({ regionSource: 'cidr', edgeId: 'sin' });
    expect(await best('10.9.7.1')).toMatchObject({ regionSource: 'maxmind', edgeId: 'iad' });
    expect(await best('8.8.8.8')).toMatchObject({ clientRegion: null, regionSource: 'unknown' });

    // Not a database: refused with the reason, the section in force stays.
    writeFileSync(path.join(temp.dir, 'broken.mmdb'), 'not a maxmind file');
    await expect(core.cdn.replaceSection(yamlSection('./broken.mmdb'), temp.dir)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('is not a MaxMind database') });
    expect((await core.cdn.section())?.geo.maxmind_db).toBe(path.join(temp.dir, 'GeoLite2-City.mmdb'));
  });

  it('cdn best-url --client-ip uses the file named in depot.yaml', async () => {
    const temp = makeTempDir('torsh-cdn-geoip-cli-');
    cleanups.push(temp.cleanup);
    geoDatabase(temp.dir);
    const config = path.join(temp.dir, 'depot.yaml');
    writeFileSync(config, yaml('./GeoLite2-City.mmdb'));
    const result = await runCliProcess(['cdn', 'best-url', 'vision/resnet@1.0.0', '--client-ip', '81.2.69.160', '--config', config, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ regionSource: 'maxmind', edgeId: 'lon', url: 'https://lon.cdn.example.com/api/v1/packages/vision/resnet/1.0.0/download' });
  });
});

function yamlSection(maxmind: string): CdnSectionInput {
  return {
    provider: 'varnish',
    origin: { storage: 'registry' },
    edges: [
      { id: 'lon', region: 'eu-west-2', endpoint: 'https://lon.cdn.example.com' },
      { id: 'iad', region: 'us-east-1', endpoint: 'https://iad.cdn.example.com' },
      { id: 'sin', region: 'ap-southeast-1', endpoint: 'https://sin.cdn.example.com' },
    ],
    geo: { cidr_regions: [{ cidr: '10.9.8.0/24', region: 'ap-southeast-1' }], maxmind_db: maxmind },
  };
}
