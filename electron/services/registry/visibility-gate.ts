import type { ConsistencyLevel } from '../../../shared/domain/replication';
import type { NewVersion } from './registry-repository';

/** A version whose blob is stored locally and whose record is about to be committed. */
export type VisibilityCandidate = Pick<NewVersion, 'name' | 'version' | 'digest' | 'size' | 'description' | 'author' | 'license' | 'tags' | 'dependencies' | 'publishedAt' | 'publishedBy'>;

/**
 * Injected into the publish path by the composition root (replication implements it): called after
 * the blob is stored and before the version is recorded, it returns once the version may become
 * visible, or throws, and the version stays invisible.
 */
export interface VisibilityGate {
  beforeVisible(candidate: VisibilityCandidate, options: { consistency?: ConsistencyLevel | undefined }): Promise<void>;
  /** Called before a version's bytes are served; throws when the version may not be read yet (a strong write without its commit). */
  beforeRead?(name: string, version: string): Promise<void>;
}

/** A change to a published version that replicas must follow (in causal order). */
export interface VersionChange {
  yanked?: boolean;
  signatures?: string[];
}
