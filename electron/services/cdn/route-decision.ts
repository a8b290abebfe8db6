import { cdnBlobKey, type CdnSection, type EdgeScore, type RouteKind } from '../../../shared/domain/cdn';

export interface RouteDecision {
  kind: RouteKind;
  url: string;
  /** The `X-Torsh-Route` header: `<kind>; reason="…"`. */
  header: string;
  reason: string;
}

/** The path of a version on an edge: the origin's object key, or serve's download path when serve is the origin. */
export function edgeObjectPath(section: Pick<CdnSection, 'origin'>, name: string, version: string): string {
  if (section.origin.storage === 'registry') return `/api/v1/packages/${name.split('/').map(encodeURIComponent).join('/')}/${encodeURIComponent(version)}/download`;
  return `/${cdnBlobKey(name, version)}`;
}

/**
 * The hybrid routing policy: in `auto` mode packages of at least `min_size` go to the best edge,
 * smaller ones stay on the registry; with no eligible edge, the first mirror (when allowed), else
 * the registry. `cdn` and `registry` modes force one side (a CDN without an edge still falls back).
 */
export function decideRoute(input: {
  section: Pick<CdnSection, 'routing' | 'origin'>;
  name: string;
  version: string;
  size: number;
  ranking: readonly EdgeScore[];
  registryUrl: string;
  mirrorUrl?: string | null;
}): RouteDecision {
  const { routing } = input.section;
  const best = input.ranking.find((edge) => edge.eligible) ?? null;
  const make = (kind: RouteKind, url: string, reason: string): RouteDecision => ({ kind, url, reason, header: `${kind}; reason="${reason.replace(/"/g, "'")}"` });
  if (routing.mode === 'registry') return make('registry', input.registryUrl, 'routing mode is registry');
  if (routing.mode === 'auto' && input.size < routing.min_size) return make('registry', input.registryUrl, `${input.size} bytes is under min_size ${routing.min_size}`);
  const why = routing.mode === 'cdn' ? 'routing mode is cdn' : `${input.size} bytes is at least min_size ${routing.min_size}`;
  if (best) return make('cdn', `${best.url.replace(/\/+$/, '')}${edgeObjectPath(input.section, input.name, input.version)}`, `${why}; edge ${best.edgeId} (score ${best.score ?? '?'}: ${best.reason})`);
  if (routing.mirrors_fallback && input.mirrorUrl) return make('mirror', input.mirrorUrl, `${why}, but no edge is eligible; mirror fallback`);
  return make('registry', input.registryUrl, `${why}, but no edge is eligible`);
}
