import mongoose, { Types } from 'mongoose';
import { useOrStartServers } from '../test/support/servers.js';
import { CapacityClaim } from '../models/capacityClaim.js';
const s = await useOrStartServers();
await mongoose.connect(s.mongoUri, { dbName: 'scratch_dup' });
await CapacityClaim.syncIndexes();
const h1 = new Types.ObjectId(), h2 = new Types.ObjectId();
await CapacityClaim.collection.insertMany([{ key: 'a', slot: 1, holder: h1 }, { key: 'a', slot: 2, holder: h1 }]);
try {
  await CapacityClaim.collection.insertMany([{ key: 'q', slot: 0, holder: h2 }, { key: 'a', slot: 2, holder: h2 }, { key: 'a', slot: 3, holder: h2 }, { key: 'a', slot: 1, holder: h2 }], { ordered: false });
} catch (e: any) {
  console.log(e.name, e.code, e.writeErrors?.map((w: any) => ({ index: w.index, code: w.code })), e.result?.insertedCount, e.insertedCount, Object.keys(e));
}
console.log(await CapacityClaim.find({ holder: h2 }).lean());
await mongoose.connection.db!.dropDatabase();
await mongoose.disconnect();
await s.stop();
