import { DepotError } from '../../../shared/errors';

export interface EdgeVclOptions {
  /** Shown in `X-Served-By` (and how our statistics tell edges apart). */
  edgeId: string;
  originHost: string;
  originPort: number;
  /** Prepended to every backend path, e.g. `/bucket` for a path-style S3 origin. */
  originPathPrefix?: string;
  /** Host header sent to the origin (defaults to host:port). */
  originHostHeader?: string;
  /** When set, PURGE needs `X-Purge-Token: <token>`; else only loopback may purge. */
  purgeToken?: string;
}

const hostPattern = /^[A-Za-z0-9.-]{1,253}$/;
const safeText = /^[A-Za-z0-9._~:/-]*$/;

/**
 * The VCL of a self-hosted Torsh Depot edge (Varnish 7 with vmod xkey from varnish-modules):
 * the cache key is the URL alone; objects are tagged with the origin's `Surrogate-Key` (or the S3
 * metadata `x-amz-meta-surrogate-key`); `PURGE <path>` drops one URL, `PURGE /` with
 * `xkey-purge: k1 k2` drops every object carrying a key; responses say `X-Cache: HIT|MISS`.
 */
export function edgeVcl(options: EdgeVclOptions): string {
  const prefix = options.originPathPrefix ?? '';
  if (!hostPattern.test(options.originHost)) throw new DepotError('VALIDATION_FAILED', `"${options.originHost}" is not a host name or address.`);
  if (!Number.isInteger(options.originPort) || options.originPort < 1 || options.originPort > 65_535) throw new DepotError('VALIDATION_FAILED', 'The origin port must be 1-65535.');
  for (const [name, value] of [['edge id', options.edgeId], ['path prefix', prefix], ['host header', options.originHostHeader ?? ''], ['purge token', options.purgeToken ?? '']] as const) {
    if (!safeText.test(value)) throw new DepotError('VALIDATION_FAILED', `The ${name} may hold only letters, digits and . _ ~ : / -`);
  }
  const hostHeader = options.originHostHeader ?? `${options.originHost}:${options.originPort}`;
  const purgeAllowed = options.purgeToken ? `req.http.X-Purge-Token == "${options.purgeToken}"` : 'client.ip ~ purgers';
  return `vcl 4.1;
import xkey;
import std;

backend origin {
  .host = "${options.originHost}";
  .port = "${options.originPort}";
  .connect_timeout = 5s;
  .first_byte_timeout = 60s;
  .between_bytes_timeout = 30s;
}

${options.purgeToken ? '' : 'acl purgers { "127.0.0.1"; "::1"; }\n'}
sub vcl_recv {
  if (req.method == "PURGE") {
    if (!(${purgeAllowed})) { return (synth(403, "Forbidden")); }
    if (req.http.xkey-purge) {
      set req.http.n-gone = xkey.purge(req.http.xkey-purge);
      return (synth(200, "Purged " + req.http.n-gone + " objects"));
    }
    return (purge);
  }
  unset req.http.X-Purge-Token;
  # The registry's routing answer (download?route=auto) depends on the caller: never cached, and a HEAD stays a HEAD.
  if (req.url ~ "[?&]route=") { return (pass); }
}

sub vcl_hash {
  hash_data(req.url);
  return (lookup);
}

sub vcl_backend_fetch {
  set bereq.url = "${prefix}" + bereq.url;
  set bereq.http.Host = "${hostHeader}";
}

sub vcl_backend_response {
  if (beresp.http.Surrogate-Key) {
    set beresp.http.xkey = beresp.http.Surrogate-Key;
  } else if (beresp.http.x-amz-meta-surrogate-key) {
    set beresp.http.xkey = beresp.http.x-amz-meta-surrogate-key;
    set beresp.http.Surrogate-Key = beresp.http.x-amz-meta-surrogate-key;
  }
}

sub vcl_deliver {
  if (obj.hits > 0) {
    set resp.http.X-Cache = "HIT";
  } else {
    set resp.http.X-Cache = "MISS";
  }
  set resp.http.X-Cache-Hits = obj.hits;
  set resp.http.X-Served-By = "${options.edgeId}";
  unset resp.http.xkey;
}

sub vcl_synth {
  set resp.http.X-Served-By = "${options.edgeId}";
}
`;
}
