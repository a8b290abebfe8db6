import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';

/** A real drop event carrying a real File, as a user's drag from the file manager makes. */
export async function dropFile(page: Page, file: string): Promise<void> {
  const transfer = await page.evaluateHandle(
    ({ bytes, name }) => {
      const binary = atob(bytes);
      const array = new Uint8Array(binary.length);
      for (let index = 0; index < binary.length; index += 1) array[index] = binary.charCodeAt(index);
      const dataTransfer = new DataTransfer();
      dataTransfer.items.add(new File([array], name, { type: 'application/octet-stream' }));
      return dataTransfer;
    },
    { bytes: readFileSync(file).toString('base64'), name: path.basename(file) },
  );
  await page.getByTestId('app').dispatchEvent('dragover', { dataTransfer: transfer });
  await page.getByTestId('app').dispatchEvent('drop', { dataTransfer: transfer });
}
