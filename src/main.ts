/**
 * The one entry point: `tsx src/main.ts [--role api|bot|jobs[,…]]`. Without --role it runs
 * the roles in ROLES (all three by default), so one command starts the whole service and
 * the roles can still be scaled apart.
 */
import { parseArgs } from 'node:util';
import { ConfigError, ROLES, type Role } from './config.js';
import { configFromEnvironment, exitOnFailure, orExitOnConfigError } from './runtime/cli.js';
import { startService } from './runtime/service.js';

function rolesFromArgs(argv: string[]): Role[] | undefined {
  const { values } = parseArgs({ args: argv, options: { role: { type: 'string', multiple: true } } });
  if (!values.role) return undefined;
  const roles = values.role.flatMap((r) => r.split(',')).map((r) => r.trim());
  const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (unknown.length > 0) throw new ConfigError([`--role: unknown role ${unknown.join(', ')} (use ${ROLES.join(', ')})`]);
  return roles as Role[];
}

async function main(): Promise<void> {
  const config = configFromEnvironment();
  const roles = orExitOnConfigError(() => rolesFromArgs(process.argv.slice(2)));

  const service = await startService(config, roles ?? config.roles);
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    // A wrapper (npm, tsx) may relay the same Ctrl-C or SIGTERM the process group already
    // got, so a repeated signal is not an order to hurry: the deadline below is.
    if (stopping) return;
    stopping = true;
    service.logger.info({ signal }, 'signal received');
    setTimeout(() => {
      service.logger.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 5_000).unref();
    service.stop().then(
      () => process.exit(0),
      (err) => {
        service.logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch(exitOnFailure('failed to start'));
