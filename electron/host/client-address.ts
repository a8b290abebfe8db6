import { BlockList, isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

/**
 * Proxies whose `X-Forwarded-For` is believed (`serve --trusted-proxy <cidr>`). Without any, the
 * header is ignored: anyone can write it, so honouring it by default would let a key guesser pick
 * a fresh address for every attempt.
 */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly cidrs: readonly string[];

  constructor(cidrs: readonly string[] = []) {
    const parsed = cidrs.map(parseCidr);
    for (const { address, prefix, family } of parsed) this.list.addSubnet(address, prefix, family);
    this.cidrs = parsed.map(({ address, prefix }) => `${address}/${prefix}`);
  }

  get empty(): boolean {
    return this.cidrs.length === 0;
  }

  includes(address: string): boolean {
    if (this.empty) return false;
    const plain = unmapIpv4(address);
    const family = isIP(plain);
    if (family === 0) return false;
    return this.list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * The address of the client that made the request: the socket's peer, unless that peer is a
   * trusted proxy, in which case `X-Forwarded-For` is read from the right, skipping further
   * trusted proxies; the first untrusted hop is the client. A malformed header is ignored.
   */
  clientAddress(request: IncomingMessage): string {
    const peer = unmapIpv4(request.socket.remoteAddress ?? '');
    if (!this.includes(peer)) return peer;
    const header = request.headers['x-forwarded-for'];
    if (header === undefined) return peer;
    const hops = (Array.isArray(header) ? header.join(',') : header).split(',').map((hop) => unmapIpv4(stripPort(hop.trim())));
    if (hops.length === 0 || hops.length > 64 || hops.some((hop) => isIP(hop) === 0)) return peer;
    for (let index = hops.length - 1; index >= 0; index -= 1) {
      const hop = hops[index] ?? peer;
      if (!this.includes(hop)) return hop;
    }
    return hops[0] ?? peer;
  }
}

/** `10.0.0.0/8`, `2001:db8::/32`, or a single address (a /32 or /128). Throws a plain Error naming the problem. */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const [address = '', prefixText, ...extra] = text.trim().split('/');
  const version = isIP(address);
  if (version === 0 || extra.length > 0) throw new Error(`"${text}" is not an address or CIDR range (write 10.0.0.0/8 or 2001:db8::/32)`);
  const max = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) throw new Error(`"${text}": the prefix length must be a number from 0 to ${max}`);
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) throw new Error(`"${text}": the prefix length must be a number from 0 to ${max}`);
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Dual-stack sockets report IPv4 peers as `::ffff:a.b.c.d`; keep one spelling per client. */
export function unmapIpv4(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped?.[1] ?? address;
}

/** `1.2.3.4:5678` and `[2001:db8::1]:443` as some proxies write them. */
function stripPort(hop: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed?.[1]) return bracketed[1];
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(hop);
  return v4WithPort?.[1] ?? hop;
}

export function isLoopbackAddress(address: string): boolean {
  const plain = unmapIpv4(address);
  return plain === '::1' || (isIP(plain) === 4 && plain.startsWith('127.'));
}
