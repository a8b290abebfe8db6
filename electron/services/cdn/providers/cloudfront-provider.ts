import { createHash, createHmac, createSign, randomUUID, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { PurgeItemResult } from '../../../../shared/domain/cdn';
import { DepotError } from '../../../../shared/errors';
import { sleep } from '../../retry/retry-backoff';
import { inBatches, sendPurgeRequest, type PurgeHttpRequest, type PurgeHttpResponse } from '../purge-http-client';
import { answerProblem, failedResults, type CdnProvider, type ProviderContext, type PurgeRequest } from './cdn-provider';

export interface CloudFrontProviderConfig {
  distributionId: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `https://cloudfront.amazonaws.com` unless overridden. */
  endpoint: string;
  /** Paths per invalidation batch. */
  batchSize: number;
  waitForCompletion: boolean;
  waitTimeoutMs: number;
  /** How often to ask whether an invalidation finished. */
  pollIntervalMs?: number;
}

const apiVersion = '2020-05-31';

/** SHA-256 (and HMAC-SHA-256 with a key) in the shape @smithy/signature-v4 expects, from node:crypto. */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytesOf(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * CloudFront: `POST /2020-05-31/distribution/{id}/invalidation` with an `InvalidationBatch` XML
 * body, signed with SigV4 (service `cloudfront`, region `us-east-1`), then
 * `GET …/invalidation/{Id}` until `Status` is `Completed`. CloudFront has no tag purge: purging a
 * package uses a path wildcard (`/packages/<name>/*`), which the CDN service builds.
 */
export class CloudFrontProvider implements CdnProvider {
  readonly name = 'cloudfront' as const;
  private readonly signer: SignatureV4;

  constructor(private readonly config: CloudFrontProviderConfig) {
    this.signer = new SignatureV4({
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
      region: 'us-east-1',
      service: 'cloudfront',
      sha256: NodeSha256,
    });
  }

  async purge(request: PurgeRequest, context: ProviderContext): Promise<PurgeItemResult[]> {
    const results: PurgeItemResult[] = [];
    const options = { retry: context.retry, ...(request.signal ? { signal: request.signal } : {}), ...(context.random ? { random: context.random } : {}) };
    const pending: { id: string; batch: string[] }[] = [];
    for (const batch of inBatches(request.urls, this.config.batchSize)) {
      const paths = batch.map(pathOf);
      const body = invalidationBatchXml(paths, randomUUID());
      const response = await this.send({ method: 'POST', url: `${this.base()}/${apiVersion}/distribution/${encodeURIComponent(this.config.distributionId)}/invalidation`, headers: { 'Content-Type': 'application/xml' }, body }, context, options);
      const id = xmlText(response.text, 'Id');
      if (response.status !== 201 || !id) {
        results.push(...failedResults('url', batch, awsProblem(response), 'cloudfront'));
        continue;
      }
      pending.push({ id, batch });
    }
    for (const { id, batch } of pending) {
      const problem = this.config.waitForCompletion ? await this.waitFor(id, context, options) : null;
      results.push(...batch.map((target) => ({ kind: 'url' as const, target, ok: problem === null, id, error: problem, via: 'cloudfront' })));
    }
    if (request.tags.length > 0) results.push(...failedResults('tag', request.tags, 'CloudFront has no tag purge; purge the package by name (path wildcard) instead', 'cloudfront'));
    return results;
  }

  /** null once the invalidation is Completed; else why it is not. */
  private async waitFor(id: string, context: ProviderContext, options: Parameters<typeof sendPurgeRequest>[2]): Promise<string | null> {
    const deadline = Date.now() + this.config.waitTimeoutMs;
    for (;;) {
      const response = await this.send({ method: 'GET', url: `${this.base()}/${apiVersion}/distribution/${encodeURIComponent(this.config.distributionId)}/invalidation/${encodeURIComponent(id)}` }, context, options);
      if (response.status !== 200) return awsProblem(response);
      if (xmlText(response.text, 'Status') === 'Completed') return null;
      if (Date.now() >= deadline) return `invalidation ${id} still in progress after ${Math.round(this.config.waitTimeoutMs / 1000)} s`;
      await sleep(this.config.pollIntervalMs ?? 5_000, options.signal);
    }
  }

  private async send(request: PurgeHttpRequest, context: ProviderContext, options: Parameters<typeof sendPurgeRequest>[2]): Promise<PurgeHttpResponse> {
    const url = new URL(request.url);
    const signed = await this.signer.sign({
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: {},
      headers: { host: url.host, ...(request.headers ?? {}) },
      ...(request.body === undefined ? {} : { body: request.body }),
    });
    // Signed once per call: a retry re-sends the same signature, valid for 15 minutes.
    return sendPurgeRequest({ ...request, headers: signed.headers as Record<string, string> }, context.counter, options);
  }

  private base(): string {
    return this.config.endpoint.replace(/\/+$/, '');
  }
}

/** The path (and query) CloudFront invalidates; `*` is kept as a wildcard. */
function pathOf(target: string): string {
  const url = new URL(target);
  return decodeURI(url.pathname).replace(/%2A/gi, '*') + url.search;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (character) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[character] ?? character);
}

export function invalidationBatchXml(paths: readonly string[], callerReference: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<InvalidationBatch xmlns="http://cloudfront.amazonaws.com/doc/${apiVersion}/">` +
    `<Paths><Quantity>${paths.length}</Quantity><Items>${paths.map((path) => `<Path>${escapeXml(path)}</Path>`).join('')}</Items></Paths>` +
    `<CallerReference>${escapeXml(callerReference)}</CallerReference>` +
    '</InvalidationBatch>'
  );
}

/** The first `<tag>text</tag>` of a small, known XML answer. */
function xmlText(xml: string, tag: string): string | null {
  const match = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return match?.[1] ?? null;
}

function awsProblem(response: PurgeHttpResponse): string {
  const code = xmlText(response.text, 'Code');
  const message = xmlText(response.text, 'Message');
  return code ? `HTTP ${response.status}: ${code}${message ? ` — ${message}` : ''}` : answerProblem(response.status, response.text);
}

/**
 * A CloudFront signed URL with a canned policy: RSA-SHA1 over
 * `{"Statement":[{"Resource":URL,"Condition":{"DateLessThan":{"AWS:EpochTime":T}}}]}`, in
 * CloudFront's URL-safe base64 (`+`→`-`, `=`→`_`, `/`→`~`), with `Expires`, `Signature`, `Key-Pair-Id`.
 */
export function signCloudFrontUrl(resource: string, keyPairId: string, privateKeyPem: string, expiresEpochSeconds: number): string {
  if (!Number.isInteger(expiresEpochSeconds) || expiresEpochSeconds <= 0) throw new DepotError('VALIDATION_FAILED', 'The expiry of a signed URL must be a whole number of seconds.');
  const policy = JSON.stringify({ Statement: [{ Resource: resource, Condition: { DateLessThan: { 'AWS:EpochTime': expiresEpochSeconds } } }] });
  const signature = createSign('RSA-SHA1').update(policy).sign(privateKeyPem).toString('base64').replace(/\+/g, '-').replace(/=/g, '_').replace(/\//g, '~');
  const url = new URL(resource);
  url.searchParams.set('Expires', String(expiresEpochSeconds));
  url.searchParams.set('Signature', signature);
  url.searchParams.set('Key-Pair-Id', keyPairId);
  return url.toString();
}
