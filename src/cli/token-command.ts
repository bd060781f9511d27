/**
 * `syncstorage token --uid N`: a token and its Hawk key for the configured
 * master secret, printed as JSON in the shape of the token server's answer
 * (`{id, key, uid, api_endpoint, duration}`), for scripts, tests, and a
 * token server in front.
 */
import { Option, type Command } from 'commander';
import { mintToken } from '../server/auth/tokenlib.js';
import { addTableOptions, commandConfig } from './command-options.js';
import { CliConfigError } from './config/load-config.js';
import { loadMasterSecret } from './config/master-secret.js';
import { StartupError } from './startup-error.js';

export function registerTokenCommand(program: Command): void {
  const command = program
    .command('token')
    .description('print a token and its Hawk key (JSON) for a user, signed with the master secret')
    .addOption(new Option('--uid <n>', 'the user id (1–10 digits)').makeOptionMandatory())
    .addOption(
      new Option(
        '--node <url>',
        'the storage node the token is for (default --public-url, else http://host:port)',
      ),
    )
    .addOption(new Option('--duration <seconds>', 'lifetime of the token').default('3600'))
    .addHelpText(
      'after',
      '\nThe master secret comes from --master-secret, SYNC_MASTER_SECRET, --config, or\n<data-dir>/master-secret (as `serve` uses it).',
    );
  addTableOptions(command, ['masterSecret', 'dataDir', 'host', 'port', 'publicUrl'], {
    masterSecret:
      'the master secret to sign with (default: <data-dir>/master-secret, as serve wrote it)',
    dataDir: 'the data folder serve uses, where its master secret is (default ./data)',
    host: 'host of the node named in the token when --public-url is not set (default 127.0.0.1)',
    port: 'port of the node named in the token when --public-url is not set (default 8000)',
    publicUrl: 'the node named in the token, as serve --public-url (default http://host:port)',
  }).action((flags: Record<string, unknown>) => {
    const { uid: uidText, node: nodeFlag, duration: durationText, ...rest } = flags;
    const config = commandConfig(rest);
    if (typeof uidText !== 'string' || !/^\d{1,10}$/.test(uidText)) {
      throw new CliConfigError('invalid --uid: expected 1–10 digits');
    }
    if (typeof durationText !== 'string' || !/^\d{1,9}$/.test(durationText)) {
      throw new CliConfigError('invalid --duration: expected seconds');
    }
    // Never a new secret here: a token signed with a secret no server has is
    // useless, and a new file in the wrong folder would hide the mistake.
    const secret = config.masterSecret ?? loadMasterSecret(config.dataDir)?.secret;
    if (secret === undefined) {
      throw new StartupError(
        `no master secret in ${config.dataDir}/master-secret (the data folder token looked in): run serve there first, or pass the secret`,
        { option: '--data-dir (SYNC_DATA_DIR) or --master-secret (SYNC_MASTER_SECRET)' },
      );
    }
    const node =
      typeof nodeFlag === 'string'
        ? nodeFlag.replace(/\/+$/, '')
        : (config.publicUrl?.replace(/\/+$/, '') ?? `http://${config.host}:${config.port}`);
    const uid = Number(uidText);
    const duration = Number(durationText);
    const token = mintToken(secret, {
      uid,
      node,
      expires: Math.floor(Date.now() / 1000) + duration,
    });
    process.stdout.write(
      `${JSON.stringify({
        id: token.id,
        key: token.key,
        uid,
        api_endpoint: `${node}/1.5/${uid}`,
        duration,
        hashed_fxa_uid: null,
      })}\n`,
    );
  });
}
