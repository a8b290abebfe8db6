/**
 * One table of public cloud regions with the coordinates of the metro each one serves, and one
 * great-circle distance. Mirrors, CDN edges and replication nodes all place themselves with it.
 * A place not in the table is written `lat,lon` (decimal degrees, e.g. `48.85,2.35`).
 */

export const cloudProviders = ['aws', 'gcp', 'azure'] as const;
export type CloudProvider = (typeof cloudProviders)[number];

export interface CloudRegion {
  id: string;
  provider: CloudProvider;
  /** The metro the region is named after or sits nearest to. */
  location: string;
  lat: number;
  lon: number;
}

type Row = readonly [id: string, location: string, lat: number, lon: number];

// Coordinates are the metro's, rounded to 0.01°: good to a few km, far finer than the network cares.
const awsRows: readonly Row[] = [
  ['us-east-1', 'N. Virginia', 38.94, -77.45],
  ['us-east-2', 'Ohio', 39.96, -83.0],
  ['us-west-1', 'N. California', 37.35, -121.96],
  ['us-west-2', 'Oregon', 45.84, -119.7],
  ['us-gov-east-1', 'GovCloud Ohio', 39.96, -83.0],
  ['us-gov-west-1', 'GovCloud Oregon', 45.84, -119.7],
  ['ca-central-1', 'Montreal', 45.5, -73.57],
  ['ca-west-1', 'Calgary', 51.05, -114.07],
  ['mx-central-1', 'Querétaro', 20.59, -100.39],
  ['sa-east-1', 'São Paulo', -23.55, -46.63],
  ['eu-central-1', 'Frankfurt', 50.11, 8.68],
  ['eu-central-2', 'Zurich', 47.37, 8.54],
  ['eu-west-1', 'Ireland', 53.35, -6.26],
  ['eu-west-2', 'London', 51.51, -0.13],
  ['eu-west-3', 'Paris', 48.86, 2.35],
  ['eu-south-1', 'Milan', 45.46, 9.19],
  ['eu-south-2', 'Aragón', 41.65, -0.88],
  ['eu-north-1', 'Stockholm', 59.33, 18.07],
  ['il-central-1', 'Tel Aviv', 32.09, 34.78],
  ['me-south-1', 'Bahrain', 26.07, 50.56],
  ['me-central-1', 'UAE', 25.2, 55.27],
  ['af-south-1', 'Cape Town', -33.92, 18.42],
  ['ap-east-1', 'Hong Kong', 22.32, 114.17],
  ['ap-east-2', 'Taipei', 25.03, 121.56],
  ['ap-south-1', 'Mumbai', 19.08, 72.88],
  ['ap-south-2', 'Hyderabad', 17.39, 78.49],
  ['ap-southeast-1', 'Singapore', 1.35, 103.82],
  ['ap-southeast-2', 'Sydney', -33.87, 151.21],
  ['ap-southeast-3', 'Jakarta', -6.2, 106.85],
  ['ap-southeast-4', 'Melbourne', -37.81, 144.96],
  ['ap-southeast-5', 'Malaysia', 3.14, 101.69],
  ['ap-southeast-6', 'New Zealand', -36.85, 174.76],
  ['ap-southeast-7', 'Thailand', 13.76, 100.5],
  ['ap-northeast-1', 'Tokyo', 35.68, 139.69],
  ['ap-northeast-2', 'Seoul', 37.57, 126.98],
  ['ap-northeast-3', 'Osaka', 34.69, 135.5],
  ['cn-north-1', 'Beijing', 39.9, 116.41],
  ['cn-northwest-1', 'Ningxia', 38.47, 106.26],
];

const gcpRows: readonly Row[] = [
  ['us-central1', 'Iowa', 41.26, -95.86],
  ['us-east1', 'South Carolina', 33.2, -80.01],
  ['us-east4', 'N. Virginia', 39.04, -77.49],
  ['us-east5', 'Columbus', 39.96, -83.0],
  ['us-south1', 'Dallas', 32.78, -96.8],
  ['us-west1', 'Oregon', 45.59, -121.18],
  ['us-west2', 'Los Angeles', 34.05, -118.24],
  ['us-west3', 'Salt Lake City', 40.76, -111.89],
  ['us-west4', 'Las Vegas', 36.17, -115.14],
  ['northamerica-northeast1', 'Montréal', 45.5, -73.57],
  ['northamerica-northeast2', 'Toronto', 43.65, -79.38],
  ['northamerica-south1', 'Querétaro', 20.59, -100.39],
  ['southamerica-east1', 'São Paulo', -23.53, -46.79],
  ['southamerica-west1', 'Santiago', -33.45, -70.67],
  ['europe-central2', 'Warsaw', 52.23, 21.01],
  ['europe-north1', 'Finland', 60.57, 27.19],
  ['europe-north2', 'Stockholm', 59.33, 18.07],
  ['europe-southwest1', 'Madrid', 40.42, -3.7],
  ['europe-west1', 'Belgium', 50.45, 3.82],
  ['europe-west2', 'London', 51.51, -0.13],
  ['europe-west3', 'Frankfurt', 50.11, 8.68],
  ['europe-west4', 'Netherlands', 53.44, 6.83],
  ['europe-west6', 'Zurich', 47.37, 8.54],
  ['europe-west8', 'Milan', 45.46, 9.19],
  ['europe-west9', 'Paris', 48.86, 2.35],
  ['europe-west10', 'Berlin', 52.52, 13.4],
  ['europe-west12', 'Turin', 45.07, 7.69],
  ['me-central1', 'Doha', 25.29, 51.53],
  ['me-central2', 'Dammam', 26.43, 50.1],
  ['me-west1', 'Tel Aviv', 32.09, 34.78],
  ['africa-south1', 'Johannesburg', -26.2, 28.05],
  ['asia-east1', 'Taiwan', 24.07, 120.54],
  ['asia-east2', 'Hong Kong', 22.32, 114.17],
  ['asia-northeast1', 'Tokyo', 35.68, 139.69],
  ['asia-northeast2', 'Osaka', 34.69, 135.5],
  ['asia-northeast3', 'Seoul', 37.57, 126.98],
  ['asia-south1', 'Mumbai', 19.08, 72.88],
  ['asia-south2', 'Delhi', 28.61, 77.21],
  ['asia-southeast1', 'Singapore', 1.35, 103.82],
  ['asia-southeast2', 'Jakarta', -6.2, 106.85],
  ['australia-southeast1', 'Sydney', -33.87, 151.21],
  ['australia-southeast2', 'Melbourne', -37.81, 144.96],
];

const azureRows: readonly Row[] = [
  ['eastus', 'Virginia', 37.37, -79.82],
  ['eastus2', 'Virginia', 36.67, -78.39],
  ['centralus', 'Iowa', 41.59, -93.62],
  ['northcentralus', 'Illinois', 41.88, -87.63],
  ['southcentralus', 'Texas', 29.42, -98.49],
  ['westcentralus', 'Wyoming', 41.14, -104.82],
  ['westus', 'California', 37.78, -122.42],
  ['westus2', 'Washington', 47.23, -119.85],
  ['westus3', 'Phoenix', 33.45, -112.07],
  ['canadacentral', 'Toronto', 43.65, -79.38],
  ['canadaeast', 'Quebec City', 46.82, -71.22],
  ['mexicocentral', 'Querétaro', 20.59, -100.39],
  ['brazilsouth', 'São Paulo', -23.55, -46.63],
  ['brazilsoutheast', 'Rio de Janeiro', -22.91, -43.17],
  ['chilecentral', 'Santiago', -33.45, -70.67],
  ['northeurope', 'Ireland', 53.35, -6.26],
  ['westeurope', 'Netherlands', 52.37, 4.9],
  ['uksouth', 'London', 51.51, -0.13],
  ['ukwest', 'Cardiff', 51.48, -3.18],
  ['francecentral', 'Paris', 48.86, 2.35],
  ['francesouth', 'Marseille', 43.3, 5.37],
  ['germanywestcentral', 'Frankfurt', 50.11, 8.68],
  ['germanynorth', 'Berlin', 52.52, 13.4],
  ['switzerlandnorth', 'Zurich', 47.37, 8.54],
  ['switzerlandwest', 'Geneva', 46.2, 6.14],
  ['norwayeast', 'Oslo', 59.91, 10.75],
  ['norwaywest', 'Stavanger', 58.97, 5.73],
  ['swedencentral', 'Gävle', 60.67, 17.14],
  ['polandcentral', 'Warsaw', 52.23, 21.01],
  ['italynorth', 'Milan', 45.46, 9.19],
  ['spaincentral', 'Madrid', 40.42, -3.7],
  ['austriaeast', 'Vienna', 48.21, 16.37],
  ['belgiumcentral', 'Brussels', 50.85, 4.35],
  ['israelcentral', 'Tel Aviv', 32.09, 34.78],
  ['qatarcentral', 'Doha', 25.29, 51.53],
  ['uaenorth', 'Dubai', 25.2, 55.27],
  ['uaecentral', 'Abu Dhabi', 24.45, 54.38],
  ['southafricanorth', 'Johannesburg', -26.2, 28.05],
  ['southafricawest', 'Cape Town', -33.92, 18.42],
  ['centralindia', 'Pune', 18.52, 73.86],
  ['southindia', 'Chennai', 13.08, 80.27],
  ['westindia', 'Mumbai', 19.08, 72.88],
  ['jioindiacentral', 'Nagpur', 21.15, 79.09],
  ['jioindiawest', 'Jamnagar', 22.47, 70.06],
  ['eastasia', 'Hong Kong', 22.32, 114.17],
  ['southeastasia', 'Singapore', 1.35, 103.82],
  ['indonesiacentral', 'Jakarta', -6.2, 106.85],
  ['malaysiawest', 'Kuala Lumpur', 3.14, 101.69],
  ['japaneast', 'Tokyo', 35.68, 139.69],
  ['japanwest', 'Osaka', 34.69, 135.5],
  ['koreacentral', 'Seoul', 37.57, 126.98],
  ['koreasouth', 'Busan', 35.18, 129.08],
  ['australiaeast', 'Sydney', -33.87, 151.21],
  ['australiasoutheast', 'Melbourne', -37.81, 144.96],
  ['australiacentral', 'Canberra', -35.28, 149.13],
  ['australiacentral2', 'Canberra', -35.28, 149.13],
  ['newzealandnorth', 'Auckland', -36.85, 174.76],
];

function regionsOf(provider: CloudProvider, rows: readonly Row[]): CloudRegion[] {
  return rows.map(([id, location, lat, lon]) => ({ id, provider, location, lat, lon }));
}

/** Every public region of the three providers. Ids do not collide across providers (AWS and GCP differ by a dash). */
export const cloudRegions: readonly CloudRegion[] = [...regionsOf('aws', awsRows), ...regionsOf('gcp', gcpRows), ...regionsOf('azure', azureRows)];

const byId = new Map(cloudRegions.map((region) => [region.id, region]));

export interface GeoPoint {
  lat: number;
  lon: number;
}

const customPattern = /^\s*(-?\d{1,3}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$/;

/** A region id from the table or `lat,lon`; null when it is neither (or the numbers are off the globe). */
export function regionCoordinates(region: string): GeoPoint | null {
  const known = byId.get(region.trim().toLowerCase());
  if (known) return { lat: known.lat, lon: known.lon };
  const match = customPattern.exec(region);
  if (!match) return null;
  const lat = Number(match[1]);
  const lon = Number(match[2]);
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
  return { lat, lon };
}

export function isKnownRegion(region: string): boolean {
  return regionCoordinates(region) !== null;
}

export function findCloudRegion(id: string): CloudRegion | null {
  return byId.get(id.trim().toLowerCase()) ?? null;
}

const earthRadiusKm = 6371.0088;

/** Great-circle distance in km (haversine; the Earth as a sphere of mean radius, within 0.5 %). */
export function greatCircleKm(a: GeoPoint, b: GeoPoint): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * earthRadiusKm * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Distance between two regions (ids or `lat,lon`); null when either is unknown. */
export function regionDistanceKm(from: string, to: string): number | null {
  const a = regionCoordinates(from);
  const b = regionCoordinates(to);
  return a && b ? greatCircleKm(a, b) : null;
}

/**
 * The client's region: `--region` first, then `TORSH_DEPOT_REGION`, then the config's `client_region`.
 * Empty values count as absent; null when none is given.
 */
export function resolveClientRegion(sources: { flag?: string | null; env?: string | null; config?: string | null }): string | null {
  for (const value of [sources.flag, sources.env, sources.config]) {
    if (value !== undefined && value !== null && value.trim() !== '') return value.trim();
  }
  return null;
}
