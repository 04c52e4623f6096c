import type { createClient } from './client';

type Api = ReturnType<typeof createClient>;

/**
 * The desk's resident search (`GET /residents?q=`: part of a name, or 4+ digits of a phone),
 * at most 20. `activeOnly` for booking on someone's behalf: only verified residents may book.
 */
export async function findResidents<T>(api: Api, q: string, activeOnly = false): Promise<T[]> {
  const query = { q: q.trim(), limit: 20, ...(activeOnly ? { status: 'active' } : {}) };
  return (await api.get<{ items: T[] }>('/residents', query)).items;
}
