import { describe, expect, it } from 'vitest';
import {
  entryPathForResource,
  resourceNameForEntryPath,
  resourceTypeForEntryPath,
  resourceTypeFromExtension,
  shouldStoreUncompressed,
  typeFolderFor,
} from '../../../../../electron/services/packages/format';

describe('resource types', () => {
  it('maps extensions exactly as the reference does (case-insensitive, Data otherwise)', () => {
    const cases: Array<[string, string]> = [
      ['w.model', 'Model'], ['w.pth', 'Model'], ['w.PT', 'Model'], ['w.torsh', 'Model'],
      ['lib.rs', 'Source'], ['meta.json', 'Metadata'],
      ['a.toml', 'Config'], ['a.yaml', 'Config'], ['a.yml', 'Config'],
      ['README.md', 'Documentation'], ['index.rst', 'Documentation'],
      ['notes.txt', 'License'], ['MIT.license', 'License'],
      ['v.bin', 'Binary'], ['v.dat', 'Binary'],
      ['w.safetensors', 'Data'], ['table.csv', 'Data'], ['LICENSE', 'Data'], ['.hidden', 'Data'],
    ];
    for (const [file, type] of cases) expect([file, resourceTypeFromExtension(file)]).toEqual([file, type]);
  });

  it('takes the type from the folder first, then the extension', () => {
    expect(resourceTypeForEntryPath('models/config.json')).toBe('Model');
    expect(resourceTypeForEntryPath('src/train.py')).toBe('Source');
    expect(resourceTypeForEntryPath('data/w.pt')).toBe('Data');
    expect(resourceTypeForEntryPath('config/x.bin')).toBe('Config');
    expect(resourceTypeForEntryPath('docs/x.txt')).toBe('Documentation');
    expect(resourceTypeForEntryPath('resources/notes.txt')).toBe('License');
    expect(resourceTypeForEntryPath('resources/vocab.json')).toBe('Metadata');
    expect(resourceTypeForEntryPath('README.md')).toBe('Documentation');
    expect(resourceTypeForEntryPath('other/w.pt')).toBe('Model');
  });

  it('never types a resources/ entry as something the reference could not have put there', () => {
    expect(resourceTypeForEntryPath('resources/LICENSE')).toBe('License');
    expect(resourceTypeForEntryPath('resources/sp.model')).toBe('Binary');
    expect(resourceTypeForEntryPath('resources/table.csv')).toBe('Binary');
  });

  it('maps types to folders and names to paths, keeping sub-paths', () => {
    expect(typeFolderFor('Model')).toBe('models');
    expect(typeFolderFor('Documentation')).toBe('docs');
    expect(typeFolderFor('Text')).toBe('resources');
    expect(entryPathForResource('Model', 'encoder/w.pt')).toBe('models/encoder/w.pt');
    expect(resourceNameForEntryPath('models/encoder/w.pt')).toBe('encoder/w.pt');
    expect(resourceNameForEntryPath('README.md')).toBe('README.md');
    expect(resourceNameForEntryPath('other/x.bin')).toBe('other/x.bin');
  });

  it('stores weights and compressed files, deflates the rest', () => {
    expect(shouldStoreUncompressed('models/w.safetensors', 10)).toBe(true);
    expect(shouldStoreUncompressed('data/x.NPZ', 10)).toBe(true);
    expect(shouldStoreUncompressed('config/a.yaml', 10)).toBe(false);
    expect(shouldStoreUncompressed('data/big.csv', 64 * 1024 * 1024 + 1)).toBe(true);
  });
});
