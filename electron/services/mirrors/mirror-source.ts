import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { z } from 'zod';
import { DepotError } from '../../../shared/errors';
import type { RegistryService } from '../registry/registry-service';
import type { RegistryChanges } from '../registry/registry-changes';
import { boundedHttpGet } from '../probes/bounded-http-get';

/** One version as the registry states it: what a mirror must hold. */
export const mirrorSourceVersionSchema = z.object({
  name: z.string(),
  version: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  yanked: z.boolean(),
  signed: z.boolean(),
});
export type MirrorSourceVersion = z.infer<typeof mirrorSourceVersionSchema>;

/** `GET /api/v1/mirrors/source`: the registry's serial and every version the caller may download. */
export const mirrorSourceSnapshotSchema = z.object({
  serial: z.number().int().nonnegative(),
  registry: z.string().nullable(),
  versions: z.array(mirrorSourceVersionSchema),
});
export type MirrorSourceSnapshot = z.infer<typeof mirrorSourceSnapshotSchema>;

/** Where `mirror sync` reads from: this host's registry, or a registry over HTTP. */
export interface MirrorSource {
  readonly description: string;
  snapshot(signal?: AbortSignal): Promise<MirrorSourceSnapshot>;
  openBlob(name: string, version: string, signal?: AbortSignal): Promise<Readable>;
  /** The version's best signature (minisign text), null when it has none. */
  signature(name: string, version: string, signal?: AbortSignal): Promise<string | null>;
}

const pageSize = 500;

/** This host's own registry (desktop, `serve`): read in place, no HTTP. */
export class LocalRegistrySource implements MirrorSource {
  constructor(
    private readonly registry: RegistryService,
    private readonly changes: RegistryChanges,
    private readonly registryUrl: () => string | null,
    /** Which packages may be mirrored; the predicate is made once per snapshot (default: all). */
    private readonly includeFor: () => (name: string) => boolean = () => () => true,
  ) {}

  get description(): string {
    return this.registryUrl() ?? 'this registry';
  }

  async snapshot(): Promise<MirrorSourceSnapshot> {
    // The serial first: a publish during the listing makes the index conservative (older serial), never ahead.
    const serial = await this.changes.serial();
    const versions: MirrorSourceVersion[] = [];
    const verdicts = new Map<string, boolean>();
    const decide = this.includeFor();
    const included = (name: string): boolean => {
      let verdict = verdicts.get(name);
      if (verdict === undefined) verdicts.set(name, (verdict = decide(name)));
      return verdict;
    };
    for (let offset = 0; ; offset += pageSize) {
      const page = this.registry.listVersionRows(offset, pageSize);
      for (const row of page.rows) {
        if (!included(row.name)) continue;
        const metadata = this.registry.getVersion(row.name, row.version);
        versions.push({
          name: row.name,
          version: row.version,
          size: metadata.size,
          sha256: metadata.digest.replace(/^sha256:/, ''),
          yanked: metadata.yanked,
          signed: (metadata.signatures ?? []).length > 0,
        });
      }
      if (page.rows.length < pageSize) break;
    }
    return { serial, registry: this.registryUrl(), versions };
  }

  async openBlob(name: string, version: string): Promise<Readable> {
    return (await this.registry.openDownload(name, version)).stream;
  }

  async signature(name: string, version: string): Promise<string | null> {
    try {
      return this.registry.getSignature(name, version);
    } catch (error) {
      if (error instanceof DepotError && error.code === 'NOT_FOUND') return null;
      throw error;
    }
  }
}

/** A registry over its HTTP API (`mirror sync --registry URL`), with an optional API key. */
export class HttpRegistrySource implements MirrorSource {
  private readonly base: URL;

  constructor(
    registryUrl: string,
    private readonly apiKey: string | null,
  ) {
    this.base = new URL(registryUrl.endsWith('/') ? registryUrl : `${registryUrl}/`);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') throw new DepotError('VALIDATION_FAILED', `--registry must be an http:// or https:// URL, not ${this.base.protocol}`, { reason: 'bad-url' });
  }

  get description(): string {
    return this.base.href.replace(/\/$/, '');
  }

  private headers(): Record<string, string> {
    return this.apiKey ? { Authorization: `Bearer ${this.apiKey}` } : {};
  }

  private url(relative: string): URL {
    return new URL(relative, this.base);
  }

  async snapshot(signal?: AbortSignal): Promise<MirrorSourceSnapshot> {
    const response = await boundedHttpGet(this.url('api/v1/mirrors/source'), { timeoutMs: 120_000, maxBytes: 256 * 1024 * 1024, headers: this.headers(), ...(signal ? { signal } : {}) });
    if (response.status !== 200) throw new DepotError(response.status === 401 ? 'UNAUTHORIZED' : response.status === 403 ? 'FORBIDDEN' : 'UNAVAILABLE', `${this.description} answered ${response.status} to the mirror source listing: ${response.body.toString('utf8').slice(0, 300)}`);
    const parsed = mirrorSourceSnapshotSchema.safeParse(JSON.parse(response.body.toString('utf8')));
    if (!parsed.success) throw new DepotError('VALIDATION_FAILED', `${this.description} sent a mirror source listing that is not valid: ${parsed.error.issues[0]?.message ?? ''}`);
    return { ...parsed.data, registry: parsed.data.registry ?? this.description };
  }

  async openBlob(name: string, version: string, signal?: AbortSignal): Promise<Readable> {
    const response = await fetch(this.url(`api/v1/packages/${name}/${encodeURIComponent(version)}/download`), { headers: this.headers(), ...(signal ? { signal } : {}) });
    if (!response.ok || !response.body) throw new DepotError('UNAVAILABLE', `${this.description}: download of ${name}@${version} answered ${response.status}.`);
    return Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  }

  async signature(name: string, version: string, signal?: AbortSignal): Promise<string | null> {
    const response = await boundedHttpGet(this.url(`api/v1/packages/${name}/${encodeURIComponent(version)}/signature`), { timeoutMs: 60_000, maxBytes: 64 * 1024, headers: this.headers(), readBodyFor: (status) => status === 200, ...(signal ? { signal } : {}) });
    if (response.status === 404) return null;
    if (response.status !== 200) throw new DepotError('UNAVAILABLE', `${this.description}: signature of ${name}@${version} answered ${response.status}.`);
    return response.body.toString('utf8');
  }
}
