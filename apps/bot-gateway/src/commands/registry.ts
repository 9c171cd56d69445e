import type { MemberContext } from '../context';
import { esc } from '../html';

/**
 * A bot command: its name (what follows the slash), how it is used, what it does
 * and its handler. /help is generated from the table, so a new command is one
 * entry here. A command may own inline buttons: their callback_data starts with
 * `<name>:`, and presses come to `onCallback` with the rest split at the next ":".
 */
export interface Command {
  name: string;
  /** Other names that run the same handler (it is told which one was used). */
  aliases?: string[];
  /** The arguments as /help shows them, such as "[today|yesterday]". */
  usage?: string;
  description: string;
  /** `source`: the stored message that carried the command. */
  handle(ctx: MemberContext, args: string, invokedAs: string, source: { messageId: string }): Promise<void>;
  onCallback?(ctx: MemberContext, action: string, value: string): Promise<void>;
}

/** Presses of buttons no command owns (an agent's Confirm / Cancel), by the prefix of their callback_data. */
export type ButtonHandler = (ctx: MemberContext, data: string) => Promise<void>;

export class CommandRegistry {
  private readonly byName = new Map<string, Command>();

  constructor(
    readonly commands: readonly Command[],
    private readonly buttons: Readonly<Record<string, ButtonHandler>> = {},
  ) {
    for (const command of commands) {
      for (const name of [command.name, ...(command.aliases ?? [])]) {
        // Telegram's rule for command names; a clash would make one unreachable.
        if (!/^[a-z0-9_]{1,32}$/.test(name)) throw new Error(`"${name}" is not a valid Telegram command name`);
        if (this.byName.has(name)) throw new Error(`the command /${name} is registered twice`);
        this.byName.set(name, command);
      }
    }
  }

  find(name: string): Command | undefined {
    return this.byName.get(name.toLowerCase());
  }

  /** The handler of a button press: `<command>:<action>:<value>` goes to the command, other prefixes to `buttons`. */
  buttonHandler(data: string): ButtonHandler | undefined {
    const [prefix = '', action = '', ...rest] = data.split(':');
    const command = this.byName.get(prefix);
    if (command?.onCallback) return (ctx) => command.onCallback!(ctx, action, rest.join(':'));
    return Object.hasOwn(this.buttons, prefix) ? this.buttons[prefix] : undefined;
  }

  /** One line per command, Telegram HTML. */
  helpLines(): string[] {
    return this.commands.map((c) => {
      const names = [`/${c.name}`, ...(c.aliases ?? []).map((a) => `/${a}`)];
      const usage = c.usage ? ` ${esc(c.usage)}` : '';
      return `${names[0]}${usage}${names.length > 1 ? ` (also ${names.slice(1).join(', ')})` : ''} — ${esc(c.description)}`;
    });
  }
}
