import type { StorageListPage, StorageUsage } from './storage-backend';

/** Object stores have no cheap usage call: count by walking the listing page by page. */
export async function usageByListing(list: (cursor: string | null) => Promise<StorageListPage>): Promise<StorageUsage> {
  let objects = 0;
  let bytes = 0;
  let cursor: string | null = null;
  do {
    const page: StorageListPage = await list(cursor);
    objects += page.objects.length;
    bytes += page.objects.reduce((sum, object) => sum + object.size, 0);
    cursor = page.nextCursor;
  } while (cursor);
  return { objects, bytes, capacityBytes: null };
}
