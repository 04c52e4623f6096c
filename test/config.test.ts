import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from '../src/config.js';
import { runMain } from './support/process.js';
import { useCleanStorage } from './support/storage.js';

describe('configuration', () => {
  useCleanStorage();

  it('applies the embedded defaults to an empty environment', () => {
    const config = loadConfig({ HOME: '/home/x' });
    expect(config.port).to.equal(3000);
    expect(config.roles).to.deep.equal(['api', 'bot', 'jobs']);
    expect(config.mongo.uri).to.equal(undefined);
    expect(config.ferretdb.handler).to.equal('postgresql');
    expect(config.ferretdb.postgresqlUrl).to.equal(undefined);
    expect(config.redis).to.include({ url: 'redis://127.0.0.1:6379', keyPrefix: 'csb:', startLocal: true });
    expect(config.wechaty.puppet).to.equal('wechaty-puppet-mock');
    expect(config.cacheDir).to.equal('/home/x/.cache/community-service-booking');
  });

  it('names every bad or missing variable at once', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        REDIS_URL: 'http://example.com',
        REDIS_KEY_PREFIX: 'no-colon',
        FERRETDB_POSTGRESQL_URL: 'http://db.internal/ferretdb',
        ROLES: 'api,web',
      });
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'REDIS_URL', 'REDIS_KEY_PREFIX', 'FERRETDB_POSTGRESQL_URL', 'ROLES']) {
      expect(problems).to.include(`${name}:`);
    }
    expect((error as ConfigError).problems).to.have.length(5);
  });

  it('requires the secrets in production, and names them', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' }))
      .to.throw(ConfigError)
      .with.property('problems')
      .that.has.members(['JWT_SECRET: is required', 'WECHAT_APPID: is required', 'WECHAT_APP_SECRET: is required']);
  });

  it('makes a configured MongoDB and production turn the embedded helpers off', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      MONGODB_URI: 'mongodb://db.internal:27017/csb',
      JWT_SECRET: 'x'.repeat(40),
      WECHAT_APPID: 'wx1234567890',
      WECHAT_APP_SECRET: 'a-real-secret',
    });
    expect(config.mongo.uri).to.equal('mongodb://db.internal:27017/csb');
    expect(config.seedDemo).to.equal(false);
    expect(config.redis.startLocal).to.equal(false);
    expect(config.wechat).to.include({ standIn: false, apiBaseUrl: 'https://api.weixin.qq.com' });
  });

  it('stops the process at start with exit code 78 and the names of the bad variables', async () => {
    const result = await runMain(['--role', 'api'], { PORT: '99999', MONGODB_URI: 'not-a-uri' });
    expect(result.code).to.equal(78);
    expect(result.stderr).to.include('PORT:');
    expect(result.stderr).to.include('MONGODB_URI:');
    expect(result.stderr).to.include('.env.example');
  });

  it('is documented: .env.example lists every variable the service reads', () => {
    const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const listed = [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);
    expect(listed).to.include.members(CONFIG_VARIABLES);
  });

  it('refuses an unknown --role by name', async () => {
    const result = await runMain(['--role', 'api,worker'], {});
    expect(result.code).to.equal(78);
    expect(result.stderr).to.include('unknown role worker');
  });
});
