import { z } from 'zod';
import { ContractClientError } from './contract-client';
import { putWithProgress, type Upload } from './stage-upload';

/** A folder the user dropped or chose: its name, and each file with its path below the folder. */
export interface DroppedFolder {
  name: string;
  files: Array<{ relativePath: string; file: File }>;
}

/** The folder behind a drop, if the first dropped item is one (Chromium and Electron expose entries). */
export function droppedDirectoryEntry(dataTransfer: DataTransfer): FileSystemDirectoryEntry | null {
  const entry = dataTransfer.items[0]?.webkitGetAsEntry() ?? null;
  return entry?.isDirectory ? (entry as FileSystemDirectoryEntry) : null;
}

/** Walks a dropped folder's entries (the browser hands them out in batches) into a file list. */
export async function readDirectoryEntry(root: FileSystemDirectoryEntry): Promise<DroppedFolder> {
  const files: DroppedFolder['files'] = [];
  const walk = async (directory: FileSystemDirectoryEntry, prefix: string): Promise<void> => {
    const reader = directory.createReader();
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) return;
      for (const entry of batch) {
        if (entry.isDirectory) await walk(entry as FileSystemDirectoryEntry, `${prefix}${entry.name}/`);
        else if (entry.isFile) files.push({ relativePath: `${prefix}${entry.name}`, file: await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject)) });
      }
    }
  };
  await walk(root, '');
  return { name: root.name, files };
}

/** The files of an `<input webkitdirectory>`: each carries `folder/sub/path` in webkitRelativePath. */
export function folderFromInput(list: FileList): DroppedFolder | null {
  const files = Array.from(list);
  const first = files[0]?.webkitRelativePath ?? '';
  const name = first.split('/')[0] ?? '';
  if (name === '') return null;
  return { name, files: files.map((file) => ({ relativePath: file.webkitRelativePath.slice(name.length + 1), file })) };
}

const receivedFileSchema = z.object({ path: z.string(), size: z.number().int() });

/** Uploads the files one after another (the host checks each path and the running total); progress covers them all. */
export function uploadFolderFiles(folderId: string, folder: DroppedFolder, onProgress: (sent: number, total: number) => void): Upload<void> {
  const total = folder.files.reduce((sum, entry) => sum + entry.file.size, 0);
  let current: Upload<unknown> | null = null;
  let aborted = false;
  const promise = (async () => {
    let done = 0;
    for (const { relativePath, file } of folder.files) {
      if (aborted) throw new ContractClientError('CANCELLED', 'Upload cancelled.');
      current = putWithProgress(`/session/staging/folders/${folderId}/files?path=${encodeURIComponent(relativePath)}`, file, receivedFileSchema, (sent) => onProgress(done + sent, total));
      await current.promise;
      done += file.size;
      onProgress(done, total);
    }
  })();
  return {
    promise,
    abort: () => {
      aborted = true;
      current?.abort();
    },
  };
}
