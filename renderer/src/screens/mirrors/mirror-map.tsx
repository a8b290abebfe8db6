import { cloudRegions, regionCoordinates, type GeoPoint } from '../../../../shared/domain/regions';
import type { MirrorView } from '../../../../shared/domain/mirrors';
import { statusLabels } from './mirror-status';

// Equirectangular, cropped to the latitudes where cloud regions are (75°N … 50°S).
const width = 720;
const north = 75;
const south = -50;
const height = Math.round((width * (north - south)) / 360);

export function project(point: GeoPoint): { x: number; y: number } {
  return { x: ((point.lon + 180) / 360) * width, y: ((north - Math.max(south, Math.min(north, point.lat))) / (north - south)) * height };
}

const cloudPoints = cloudRegions.map((region) => ({ id: region.id, ...project(region) }));

/**
 * Where the mirrors are and how they are: every cloud region as a faint dot (they trace the
 * continents), each mirror as a dot in its health colour, the preview's client as a ring.
 */
export function MirrorMap({ mirrors, clientRegion }: { mirrors: MirrorView[]; clientRegion: string | null }) {
  const placed = mirrors.flatMap((view) => {
    const point = view.config.region ? regionCoordinates(view.config.region) : null;
    return point ? [{ view, ...project(point) }] : [];
  });
  const unplaced = mirrors.filter((view) => !view.config.region || !regionCoordinates(view.config.region));
  const clientPoint = clientRegion ? regionCoordinates(clientRegion) : null;
  const client = clientPoint ? project(clientPoint) : null;
  // Mirrors in the same metro stack their labels instead of writing over each other.
  const seen = new Map<string, number>();
  return (
    <figure className="mirror-map" data-testid="mirror-map">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`Map of ${placed.length} mirror${placed.length === 1 ? '' : 's'} by region`}>
        <rect x={0} y={0} width={width} height={height} className="map-sea" />
        {[-30, 0, 30, 60].map((lat) => (
          <line key={`lat${lat}`} x1={0} x2={width} y1={project({ lat, lon: 0 }).y} y2={project({ lat, lon: 0 }).y} className="map-grid" />
        ))}
        {[-120, -60, 0, 60, 120].map((lon) => (
          <line key={`lon${lon}`} y1={0} y2={height} x1={project({ lat: 0, lon }).x} x2={project({ lat: 0, lon }).x} className="map-grid" />
        ))}
        {cloudPoints.map((point) => (
          <circle key={point.id} cx={point.x} cy={point.y} r={2.6} className="map-region" />
        ))}
        {client ? (
          <g className="map-client" data-testid="map-client">
            <circle cx={client.x} cy={client.y} r={9} />
            <circle cx={client.x} cy={client.y} r={2.5} className="map-client-core" />
          </g>
        ) : null}
        {placed.map(({ view, x, y }) => {
          const key = `${Math.round(x)}:${Math.round(y)}`;
          const stack = seen.get(key) ?? 0;
          seen.set(key, stack + 1);
          const status = view.config.enabled ? view.health.status : 'unknown';
          const labelLeft = x > width - 140;
          return (
            <g key={view.config.id} className={`map-mirror map-${status}`} data-testid="map-mirror" data-status={status}>
              <title>{`${view.config.id} · ${view.config.region ?? ''} · ${statusLabels[status]}`}</title>
              {stack === 0 ? <circle cx={x} cy={y} r={11} className="map-halo" /> : null}
              {stack === 0 ? <circle cx={x} cy={y} r={6} className="map-dot" /> : null}
              <text x={labelLeft ? x - 12 : x + 12} y={y + 4 + stack * 15} textAnchor={labelLeft ? 'end' : 'start'} className="map-label">
                {view.config.id}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption className="muted">
        {placed.length === 0 ? 'No mirror has a region yet: give one a region to place it here.' : null}
        {unplaced.length > 0 && placed.length > 0 ? `Without a region: ${unplaced.map((view) => view.config.id).join(', ')}.` : null}
      </figcaption>
    </figure>
  );
}
