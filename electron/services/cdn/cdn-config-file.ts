import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { cdnSectionSchema, type CdnSection } from '../../../shared/domain/cdn';
import { DepotError } from '../../../shared/errors';

/**
 * The `cdn:` section of a `depot.yaml` (or a file holding just that section), validated; errors
 * name the bad field by its path (`cdn.edges.1.id`). The config loader hands the section over
 * the same way once every capability reads its section through it.
 */
export async function readCdnSection(file: string): Promise<{ section: CdnSection; baseDir: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new DepotError('VALIDATION_FAILED', `Cannot read the config file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new DepotError('VALIDATION_FAILED', `${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const hasSection = typeof document === 'object' && document !== null && 'cdn' in document;
  const raw = hasSection ? (document as { cdn: unknown }).cdn : document;
  const parsed = cdnSectionSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `cdn.${issue.path.join('.')}: ${issue.message}`);
    throw new DepotError('VALIDATION_FAILED', `${file}: ${issues.join('; ')}`, { reason: 'config-invalid' });
  }
  return { section: parsed.data, baseDir: path.dirname(path.resolve(file)) };
}
