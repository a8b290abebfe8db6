import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Where the built renderer lives, as the file:// URLs the window loads and checks against. */
export interface AppUrls {
  /** `file:///…/dist/renderer/index.html`: the only page the window may show. */
  readonly indexUrl: string;
  /** `file:///…/dist/renderer/`: the app's own files, which get the CSP header. */
  readonly rootUrl: string;
}

export function appUrlsFor(rendererIndexFile: string): AppUrls {
  const indexFile = path.resolve(rendererIndexFile);
  const rootHref = pathToFileURL(path.dirname(indexFile)).href;
  return {
    indexUrl: pathToFileURL(indexFile).href,
    rootUrl: rootHref.endsWith('/') ? rootHref : `${rootHref}/`,
  };
}

/**
 * True when `candidate` is the app's index page. The query and fragment are ignored (client-side
 * routes live in the fragment); anything else, including another file next to it, is foreign.
 */
export function isAppIndexUrl(candidate: string, indexUrl: string): boolean {
  const a = parseDocumentUrl(candidate);
  const b = parseDocumentUrl(indexUrl);
  return a !== null && b !== null && a.protocol === 'file:' && a.href === b.href;
}

/** True when `candidate` is a file under the app's renderer folder (no `..` escapes after parsing). */
export function isUnderAppRoot(candidate: string, rootUrl: string): boolean {
  const a = parseDocumentUrl(candidate);
  const root = parseDocumentUrl(rootUrl);
  return a !== null && root !== null && a.protocol === 'file:' && a.host === root.host && a.pathname.startsWith(root.pathname);
}

function parseDocumentUrl(value: string): URL | null {
  try {
    const url = new URL(value);
    url.hash = '';
    url.search = '';
    return url;
  } catch {
    return null;
  }
}
