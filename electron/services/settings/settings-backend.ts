import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../fs/atomic-write';

/** Where preferences are kept: electron-store in the desktop shell, a JSON file in the headless host. */
export interface SettingsBackend {
  read(): unknown;
  write(value: Record<string, unknown>): Promise<void>;
}

export class JsonFileSettingsBackend implements SettingsBackend {
  constructor(private readonly file: string) {}

  read(): unknown {
    if (!existsSync(this.file)) return {};
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
    } catch (error) {
      throw new Error(`Settings file ${this.file} is not valid JSON (${(error as Error).message}); fix or remove it.`, { cause: error });
    }
  }

  async write(value: Record<string, unknown>): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify(value, null, 2)}\n`);
  }
}

/** Keeps settings in memory only (tests, dry runs). */
export class MemorySettingsBackend implements SettingsBackend {
  private value: Record<string, unknown> = {};
  read(): unknown {
    return structuredClone(this.value);
  }
  async write(value: Record<string, unknown>): Promise<void> {
    this.value = structuredClone(value);
  }
}
