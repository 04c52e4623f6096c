import mongoose from 'mongoose';
import { deleteKeysWithPrefix } from '../../src/storage/redis.js';
import { testEnvironment } from './env.js';

const cleanedFiles = new Set<string>();

/** Empties every collection (indexes stay) and every Redis key of the test run. */
export async function cleanStorage(): Promise<void> {
  const db = mongoose.connection.db;
  if (!db) throw new Error('mongoose is not connected');
  const collections = await db.listCollections({}, { nameOnly: true }).toArray();
  await Promise.all(collections.map((c) => db.collection(c.name).deleteMany({})));
  await deleteKeysWithPrefix(testEnvironment().redis);
}

function fileOf(runnable: Mocha.Runnable | Mocha.Suite | undefined): string | undefined {
  let node: { file?: string; parent?: Mocha.Suite } | undefined = runnable;
  while (node && !node.file) node = node.parent;
  return node?.file;
}

/**
 * Call at the top of each test file's outer describe: the file then starts on an empty
 * database and Redis key space, before any of its own `before` hooks insert data.
 */
export function useCleanStorage(): void {
  before(async function () {
    await cleanStorage();
    const file = fileOf(this.test);
    if (file) cleanedFiles.add(file);
  });
}

/** Used by the root hook: whether a file asked for clean storage before its tests ran. */
export function fileWasCleaned(file: string | undefined): boolean {
  return file === undefined || cleanedFiles.has(file);
}
