import { BlockList, isIP } from 'node:net';
import type { CdnSection } from '../../../shared/domain/cdn';
import { DepotError } from '../../../shared/errors';

export interface ClientRegion {
  region: string | null;
  source: 'region' | 'cidr' | 'maxmind' | 'unknown';
}

/** Looks a client's IP up in a MaxMind GeoLite2 database; returns `lat,lon` or null. */
export type GeoIpLookup = (ip: string) => string | null;

/**
 * Client IP → region through the configured CIDR table (most specific block wins), then an optional
 * GeoIP lookup (MaxMind file); `--region` given by the caller wins over both.
 */
export class ClientRegionResolver {
  private readonly blocks: { prefix: number; region: string; list: BlockList }[];

  constructor(
    table: CdnSection['geo']['cidr_regions'],
    private readonly geoIp: GeoIpLookup | null = null,
  ) {
    this.blocks = table
      .map((entry) => {
        const [address = '', bits = ''] = entry.cidr.split('/');
        const family = isIP(address);
        if (family === 0) throw new DepotError('VALIDATION_FAILED', `cdn.geo.cidr_regions: "${entry.cidr}" is not a CIDR block.`);
        const prefix = Number(bits);
        if (prefix > (family === 4 ? 32 : 128)) throw new DepotError('VALIDATION_FAILED', `cdn.geo.cidr_regions: "${entry.cidr}" has too long a prefix.`);
        const list = new BlockList();
        list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
        return { prefix, region: entry.region, list };
      })
      .sort((a, b) => b.prefix - a.prefix);
  }

  resolve(input: { region?: string | null; clientIp?: string | null }): ClientRegion {
    if (input.region) return { region: input.region, source: 'region' };
    const ip = input.clientIp?.replace(/^::ffff:/, '') ?? null;
    if (!ip) return { region: null, source: 'unknown' };
    const family = isIP(ip);
    if (family === 0) throw new DepotError('VALIDATION_FAILED', `"${ip}" is not an IP address.`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    for (const block of this.blocks) if (block.list.check(ip, type)) return { region: block.region, source: 'cidr' };
    const located = this.geoIp?.(ip) ?? null;
    return located ? { region: located, source: 'maxmind' } : { region: null, source: 'unknown' };
  }
}
