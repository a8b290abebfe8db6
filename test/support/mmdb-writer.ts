import { isIPv4 } from 'node:net';

/**
 * A tiny MaxMind DB writer (format 2.0, https://maxmind.github.io/MaxMind-DB/): an IPv4 search tree
 * with 32-bit records, a data section and the metadata map — enough to build GeoLite2-shaped test
 * files instead of downloading real databases.
 */
export type MmdbValue = string | number | boolean | MmdbValue[] | { [key: string]: MmdbValue };

export interface MmdbNetwork {
  /** `203.0.113.0/24` */
  cidr: string;
  data: { [key: string]: MmdbValue };
}

export function writeMmdb(networks: readonly MmdbNetwork[], databaseType = 'GeoLite2-City'): Buffer {
  // Data section: one record per network (no de-duplication: the files are tiny).
  const dataChunks: Buffer[] = [];
  let dataSize = 0;
  const offsets = networks.map((network) => {
    const encoded = encode(network.data);
    const offset = dataSize;
    dataChunks.push(encoded);
    dataSize += encoded.length;
    return offset;
  });

  // Search tree: node → [left, right]; a child is a node index, or `{ data }` (offset), or null (not found).
  type Child = number | { data: number } | null;
  const nodes: [Child, Child][] = [[null, null]];
  const sorted = networks.map((network, index) => ({ ...parseCidr(network.cidr), offset: offsets[index]! })).sort((a, b) => a.prefix - b.prefix);
  for (const { address, prefix, offset } of sorted) {
    let node = 0;
    for (let depth = 0; depth < prefix; depth += 1) {
      const bit = (address >>> (31 - depth)) & 1;
      if (depth === prefix - 1) {
        nodes[node]![bit] = { data: offset };
        break;
      }
      const child = nodes[node]![bit]!;
      if (typeof child === 'number') {
        node = child;
        continue;
      }
      // A broader network already answers here: push it down both sides of a new node.
      nodes.push([child, child]);
      nodes[node]![bit] = nodes.length - 1;
      node = nodes.length - 1;
    }
  }
  const nodeCount = nodes.length;
  const tree = Buffer.alloc(nodeCount * 8);
  nodes.forEach(([left, right], index) => {
    const value = (child: Child): number => (child === null ? nodeCount : typeof child === 'number' ? child : nodeCount + 16 + child.data);
    tree.writeUInt32BE(value(left), index * 8);
    tree.writeUInt32BE(value(right), index * 8 + 4);
  });

  const metadata = encode({
    node_count: { uint32: nodeCount } as never,
    record_size: { uint16: 32 } as never,
    ip_version: { uint16: 4 } as never,
    database_type: databaseType,
    languages: ['en'],
    binary_format_major_version: { uint16: 2 } as never,
    binary_format_minor_version: { uint16: 0 } as never,
    build_epoch: { uint32: Math.floor(Date.now() / 1000) } as never,
    description: { en: 'Torsh Depot test database' },
  });
  return Buffer.concat([tree, Buffer.alloc(16), ...dataChunks, Buffer.from('abcdef4d61784d696e642e636f6d', 'hex'), metadata]);
}

function parseCidr(cidr: string): { address: number; prefix: number } {
  const [ip = '', bits = ''] = cidr.split('/');
  if (!isIPv4(ip)) throw new Error(`${cidr}: this writer takes IPv4 networks only`);
  const prefix = Number(bits);
  if (!Number.isInteger(prefix) || prefix < 1 || prefix > 32) throw new Error(`${cidr}: prefix 1-32`);
  const address = ip.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
  return { address, prefix };
}

/** Control byte(s) of a field: type in the top 3 bits (extended types in a second byte), size in the low 5 (spec "Data Field Format"). */
function control(type: number, size: number): Buffer {
  const sizeBytes: number[] = [];
  let low: number;
  if (size < 29) low = size;
  else if (size < 285) {
    low = 29;
    sizeBytes.push(size - 29);
  } else {
    low = 30;
    const rest = size - 285;
    sizeBytes.push(rest >> 8, rest & 0xff);
  }
  const head = type <= 7 ? [(type << 5) | low] : [low, type - 7];
  return Buffer.from([...head, ...sizeBytes]);
}

function unsigned(type: number, value: number): Buffer {
  const bytes: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.concat([control(type, bytes.length), Buffer.from(bytes)]);
}

function encode(value: MmdbValue | { uint16: number } | { uint32: number }): Buffer {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([control(2, bytes.length), bytes]);
  }
  if (typeof value === 'number') {
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleBE(value);
    return Buffer.concat([control(3, 8), bytes]);
  }
  if (typeof value === 'boolean') return control(14, value ? 1 : 0);
  if (Array.isArray(value)) return Buffer.concat([control(11, value.length), ...value.map((item) => encode(item))]);
  if ('uint16' in value && typeof value.uint16 === 'number') return unsigned(5, value.uint16);
  if ('uint32' in value && typeof value.uint32 === 'number') return unsigned(6, value.uint32);
  const entries = Object.entries(value as Record<string, MmdbValue>);
  return Buffer.concat([control(7, entries.length), ...entries.flatMap(([key, item]) => [encode(key), encode(item)])]);
}
