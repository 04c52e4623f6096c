import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Identity, RoomBooking } from '../models/index.js';
import { makeCommunity, makeFacility, makeResident, makeRoom } from './factories/index.js';
import { serviceEnv } from './support/process.js';
import { useCleanStorage } from './support/storage.js';

const CHAT = fileURLToPath(new URL('../scripts/chat.ts', import.meta.url));

/** Runs `npm run chat -- --as <who>` with `input` piped in; resolves with its output. */
function chat(who: string, input: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHAT, '--as', who], { env: serviceEnv({ LOG_LEVEL: 'warn' }), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(input);
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('npm run chat', () => {
  useCleanStorage();

  it('holds a conversation with the bot from the terminal, as the person named, and unbinds at the end', async function () {
    this.timeout(60_000);
    const community = await makeCommunity();
    await makeRoom(await makeFacility(community), { name: '棋牌室', capacity: 10 });
    const resident = await makeResident({ community: community._id, phone: '13900001111' });

    const { code, stdout, stderr } = await chat('13900001111', '后天上午9点到10点借棋牌室，4个人\n确认\n');

    expect(code, stderr).to.equal(0);
    expect(stdout).to.include('你：后天上午9点到10点借棋牌室').and.include('请确认预约').and.include('预约成功');
    expect(await RoomBooking.countDocuments({ bookedFor: resident._id })).to.equal(1);
    expect(await Identity.countDocuments({ person: resident._id, provider: 'wechat_bot' })).to.equal(0);
  });

  it('refuses an unknown person with a hint (exit 1)', async function () {
    this.timeout(60_000);
    const { code, stderr } = await chat('13900009999', '你好\n');
    expect(code).to.equal(1);
    expect(stderr).to.include('npm run seed');
  });
});
