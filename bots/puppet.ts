import type { WechatyInterface } from 'wechaty/impls';
import { WechatyBuilder } from 'wechaty';
import { PuppetMock, mock } from 'wechaty-puppet-mock';
import type { Config } from '../src/config.js';

export const MOCK_PUPPET = 'wechaty-puppet-mock';

export interface BuiltWechaty {
  wechaty: WechatyInterface;
  /** Present with the mock puppet: drives simulated contacts (demo, `npm run chat`, tests). */
  mocker?: mock.Mocker;
  /** With the mock puppet the bot's own account; logged in once started. */
  botUser?: mock.ContactMock;
}

/**
 * Builds Wechaty with the puppet the configuration names. The mock puppet is the default, so
 * the demo and the tests need no WeChat account; a real puppet (e.g. wechaty-puppet-service
 * with WECHATY_PUPPET_SERVICE_TOKEN) is a configuration change only.
 */
export function buildWechaty(config: Config['wechaty']): BuiltWechaty {
  if (config.puppet === MOCK_PUPPET) {
    const mocker = new mock.Mocker();
    const puppet = new PuppetMock({ mocker });
    const wechaty = WechatyBuilder.build({ name: config.name, puppet });
    return { wechaty, mocker };
  }
  const wechaty = WechatyBuilder.build({
    name: config.name,
    puppet: config.puppet as never,
    puppetOptions: config.token ? { token: config.token } : {},
  });
  return { wechaty };
}

/** Logs the mock bot in as 社区小助手, as scanning the QR code would on a real account. */
export function loginMockBot(built: BuiltWechaty): mock.ContactMock | undefined {
  if (!built.mocker) return undefined;
  const botUser = built.mocker.createContact({ name: '社区小助手' });
  built.mocker.login(botUser);
  built.botUser = botUser;
  return botUser;
}
