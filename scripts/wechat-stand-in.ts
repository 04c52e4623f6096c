/**
 * `node --import tsx scripts/wechat-stand-in.ts --port 3001`: runs the WeChat stand-in
 * (src/wechat/standIn.ts) for a local demo, prints its base URL, stops on SIGINT / SIGTERM.
 * Options: --port (default 3001, 0 = free), --host (127.0.0.1), --app-id, --app-secret
 * (default wx-demo-appid / demo-app-secret: they must match the service's WeChat settings).
 */
import { parseArgs } from 'node:util';
import { exitOnFailure } from '../src/runtime/cli.js';
import { startWechatStandIn } from '../src/wechat/standIn.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '3001' },
      host: { type: 'string', default: '127.0.0.1' },
      'app-id': { type: 'string' },
      'app-secret': { type: 'string' },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0–65535, not ${values.port}`);

  const standIn = await startWechatStandIn({
    port,
    host: values.host,
    appId: values['app-id'],
    appSecret: values['app-secret'],
  });
  process.stdout.write(
    `WeChat stand-in listening on ${standIn.baseUrl}\n` +
      'codes: "<user>#<n>" logs <user> in (fresh code each time); "err-<errcode>" answers that errcode\n',
  );

  const stop = () => {
    standIn.close().then(() => process.exit(0), exitOnFailure('stopping the WeChat stand-in failed'));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch(exitOnFailure('WeChat stand-in failed'));
