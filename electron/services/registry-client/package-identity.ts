import { manifestEntryName, openPackageEntry, parseManifest } from '../packages/format';
import { DepotError } from '../../../shared/errors';

// The manifest lists every resource; far below this even for packages of thousands of files.
const maxManifestBytes = 16 * 1024 * 1024;

/** Name and version from the package's own manifest, read without hashing the whole file. */
export async function readPackageIdentity(filePath: string): Promise<{ name: string; version: string }> {
  const stream = await openPackageEntry(filePath, manifestEntryName);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    total += buffer.length;
    if (total > maxManifestBytes) {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      throw new DepotError('INVALID_PACKAGE', `${manifestEntryName} is larger than ${maxManifestBytes} bytes.`, { reason: 'manifest-too-large' });
    }
    chunks.push(buffer);
  }
  const manifest = parseManifest(Buffer.concat(chunks));
  return { name: manifest.name, version: manifest.version };
}
