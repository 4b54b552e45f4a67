/** The command line this process was started with, as a user can paste it back into a shell. */
import { basename, relative } from 'node:path';

/** Quotes `arg` for a POSIX shell when it needs it. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * How this process was invoked: `fewshot ARGS` through the installed bin, otherwise
 * `node [node options] SCRIPT ARGS` with the script relative to the working directory.
 */
export function invocation(argv: readonly string[] = process.argv, execArgv: readonly string[] = process.execArgv): string[] {
  const script = argv[1] ?? 'fewshot';
  const args = argv.slice(2);
  if (basename(script) === 'fewshot') return ['fewshot', ...args];
  const rel = relative(process.cwd(), script);
  return ['node', ...execArgv, rel.startsWith('..') ? script : rel, ...args];
}

/** This command line with `flag` added (when it is not there yet), quoted for a shell. */
export function commandLineWith(flag: string, argv?: readonly string[], execArgv?: readonly string[]): string {
  const words = invocation(argv, execArgv);
  if (!words.includes(flag)) words.push(flag);
  return words.map(shellQuote).join(' ');
}
