/**
 * Readers every presenter uses, so a presenter is safe on any stored record: a document, a
 * lean read, a cached plain record (src/cache/readCache.ts) or an older record written before
 * a field existed. Those lack the arrays and defaults a document would fill in, and
 * `String(undefined)` would put the word "undefined" in a response.
 */

/** A copy of a stored list, empty when the record has none. */
export function listOf<T>(value: readonly T[] | null | undefined): T[] {
  return Array.isArray(value) ? [...value] : [];
}

/** The id of a reference (an ObjectId, a populated document, a string), or null when absent. */
export function idOrNull(ref: unknown): string | null {
  if (ref === null || ref === undefined || ref === '') return null;
  // An ObjectId's own `_id` is itself: only a populated document is unwrapped.
  if (typeof ref === 'object' && !('toHexString' in ref) && '_id' in ref) return idOrNull((ref as { _id: unknown })._id);
  return String(ref);
}

/** The id of a reference that every valid record holds; '' rather than "undefined" when one does not. */
export function idOf(ref: unknown): string {
  return idOrNull(ref) ?? '';
}
