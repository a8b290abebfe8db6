import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { Reader, type CityResponse } from 'mmdb-lib';
import { DepotError } from '../../../shared/errors';
import type { GeoIpLookup } from './client-region';

/** A continent's stand-in region when the database has no coordinates for an address (a Country database). */
const continentRegions: Readonly<Record<string, string>> = {
  AF: 'af-south-1',
  AS: 'ap-southeast-1',
  EU: 'eu-central-1',
  NA: 'us-east-1',
  OC: 'ap-southeast-2',
  SA: 'sa-east-1',
};

/**
 * Opens a MaxMind GeoLite2 City or Country database (`.mmdb`, read whole: a City file is ~60 MB)
 * and answers client IP → `lat,lon` (City) or the continent's region (Country), else null.
 */
export async function openGeoIpDatabase(file: string): Promise<GeoIpLookup> {
  let reader: Reader<CityResponse>;
  try {
    reader = new Reader<CityResponse>(await readFile(file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DepotError('VALIDATION_FAILED', `cdn.geo.maxmind_db: ${file} ${code ? `cannot be read (${code})` : `is not a MaxMind database: ${(error as Error).message}`}.`, { reason: 'geoip-database' });
  }
  return (ip) => {
    if (isIP(ip) === 0) return null;
    let found: CityResponse | null;
    try {
      found = reader.get(ip);
    } catch {
      // An IPv6 address against an IPv4-only database, say.
      return null;
    }
    const location = found?.location;
    if (location && Number.isFinite(location.latitude) && Number.isFinite(location.longitude)) return `${location.latitude},${location.longitude}`;
    const continent = found?.continent?.code;
    return continent ? (continentRegions[continent] ?? null) : null;
  };
}
