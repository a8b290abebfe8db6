import { createReadStream, promises as fsp } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Serves the built renderer. Paths are resolved inside `root` only; anything that escapes it
 * (`..`, encoded separators, absolute paths) is answered 404 rather than read.
 */
export async function serveStaticFile(root: string, urlPath: string, response: ServerResponse, headers: Record<string, string>): Promise<boolean> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return false;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return false;
  const relative = decoded === '/' ? 'index.html' : decoded.replace(/^\/+/, '');
  const resolvedRoot = path.resolve(root);
  const file = path.resolve(resolvedRoot, relative);
  if (file !== resolvedRoot && !file.startsWith(resolvedRoot + path.sep)) return false;
  let stats;
  try {
    stats = await fsp.stat(file);
  } catch {
    return false;
  }
  if (!stats.isFile()) return false;
  const extension = path.extname(file).toLowerCase();
  // Hashed asset names never change content; the HTML must always be revalidated.
  const cacheControl = relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
  response.writeHead(200, {
    ...headers,
    'Content-Type': contentTypes[extension] ?? 'application/octet-stream',
    'Content-Length': String(stats.size),
    'Cache-Control': cacheControl,
  });
  await new Promise<void>((resolve) => {
    const stream = createReadStream(file);
    stream.on('error', () => {
      response.destroy();
      resolve();
    });
    response.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(response);
  });
  return true;
}
