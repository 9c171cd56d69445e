import { Command, InvalidArgumentError } from 'commander';
import { EmulatorClient, EmulatorUnreachableError } from './emulator';
import { runChat } from './session';

/**
 * `pnpm chat`: talk to the bot from a terminal, through the local Telegram emulator
 * that `pnpm start` runs when no TELEGRAM_BOT_TOKEN is set. The defaults play the
 * demo admin, whom `pnpm start` links to Telegram user 1001.
 */
const DEFAULT_URL = 'http://127.0.0.1:8081';

function telegramId(value: string): number {
  const id = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(id) || id === 0) throw new InvalidArgumentError('expected a whole number other than 0');
  return id;
}

const isHttpUrl = (value: string) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);

function emulatorUrl(value: string): string {
  if (!isHttpUrl(value)) throw new InvalidArgumentError('expected an http:// address');
  return value;
}

function chatProgram(): Command {
  return new Command('pnpm chat')
    .description('chat with the DealDome bot through the local Telegram emulator, as one team member')
    .option('--url <url>', 'the emulator (default: TELEGRAM_EMULATOR_URL, else http://127.0.0.1:8081)', emulatorUrl)
    .option('--user-id <id>', 'your Telegram user id: a team member is linked to it', telegramId, 1001)
    .option('--name <name>', 'your first name as Telegram shows it', 'Admin')
    .option('--chat-id <id>', 'the chat (default: your user id, a private chat with the bot)', telegramId)
    .showHelpAfterError();
}

async function main(): Promise<void> {
  const program = chatProgram().parse(process.argv);
  const options = program.opts<{ url?: string; userId: number; name: string; chatId?: number }>();
  const url = options.url ?? (process.env.TELEGRAM_EMULATOR_URL || DEFAULT_URL);
  if (!isHttpUrl(url)) throw new Error(`TELEGRAM_EMULATOR_URL is not an http:// address: ${url}`);
  const client = new EmulatorClient(url, options.chatId ?? options.userId, { id: options.userId, first_name: options.name });
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  try {
    await runChat({
      client,
      input: process.stdin,
      output: process.stdout,
      terminal: process.stdin.isTTY === true && process.stdout.isTTY === true,
      ansi: process.stdout.isTTY === true && !process.env.NO_COLOR,
      // pnpm runs scripts from the workspace root; INIT_CWD is where the command was typed.
      cwd: process.env.INIT_CWD || process.cwd(),
    });
  } catch (err) {
    if (!(err instanceof EmulatorUnreachableError)) throw err;
    process.stderr.write(
      `chat: ${err.message}.\n` +
        'Start DealDome without TELEGRAM_BOT_TOKEN (`pnpm start` runs the emulator then), or the emulator alone\n' +
        '(`pnpm --filter @dealdome/testkit telegram-emulator`); pass --url or TELEGRAM_EMULATOR_URL for another address.\n',
    );
    process.exit(1);
  }
  process.exit(0);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`chat: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
