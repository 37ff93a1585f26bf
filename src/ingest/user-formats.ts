/**
 * Reading user-defined format files (`--formats FILE`, and every `*.json` in the config
 * directory). The validation itself is pure and lives in src/formats/user-defined.ts; this is the
 * I/O at its edge. Every problem becomes a one-line UserFormatError naming the file and field.
 */
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseUserFormats, UserFormatError, type UserLogFormat } from '../formats/user-defined.js';

/** Files larger than this are not format descriptions. */
const MAX_FILE_BYTES = 1024 * 1024;

/**
 * The directory whose `*.json` files are loaded on every run: `$LOGDIAG_FORMATS_DIR`, else
 * `$XDG_CONFIG_HOME/logdiag/formats`, else `~/.config/logdiag/formats`.
 */
export function userFormatsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LOGDIAG_FORMATS_DIR) return env.LOGDIAG_FORMATS_DIR;
  const config = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(config, 'logdiag', 'formats');
}

function ioMessage(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return err instanceof Error ? err.message : String(err);
}

/** "… in JSON at position 42" → "… at line 3, column 5". */
function jsonMessage(err: unknown, text: string): string {
  const message = (err instanceof Error ? err.message : String(err)).replace(
    / \(line \d{1,9} column \d{1,9}\)/,
    '',
  );
  const at = /\bat position (\d{1,9})/.exec(message);
  if (!at) return message;
  const before = text.slice(0, Number(at[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  const what = message
    .slice(0, at.index)
    .replace(/ in JSON $/, '')
    .trim();
  return `${what} at line ${line}, column ${column}`;
}

/**
 * Reads and validates one format file. `taken` maps format names already loaded to their file,
 * so that two files cannot define the same name.
 */
export async function loadUserFormats(
  path: string,
  taken: ReadonlyMap<string, string> = new Map(),
): Promise<UserLogFormat[]> {
  let text: string;
  try {
    const stat = await fs.stat(path);
    if (stat.isDirectory()) throw new UserFormatError(`${path}: is a directory (give a .json file)`);
    if (stat.size > MAX_FILE_BYTES) throw new UserFormatError(`${path}: larger than 1 MB, not a format file`);
    text = await fs.readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof UserFormatError) throw err;
    throw new UserFormatError(`${path}: ${ioMessage(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new UserFormatError(`${path}: not valid JSON: ${jsonMessage(err, text)}`);
  }
  return parseUserFormats(json, path, taken);
}

/**
 * Every `*.json` in the config directory, in name order. A default directory that is missing or
 * out of reach (another user's $HOME under sudo) is no error; a directory named by
 * LOGDIAG_FORMATS_DIR must be readable.
 */
export async function userFormatsFromConfigDir(
  env: NodeJS.ProcessEnv = process.env,
  taken: ReadonlyMap<string, string> = new Map(),
): Promise<UserLogFormat[]> {
  const dir = userFormatsDir(env);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException)?.code;
    if (!env.LOGDIAG_FORMATS_DIR) {
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'EPERM') return [];
      throw new UserFormatError(`${dir}: ${ioMessage(err)} (the user formats directory)`);
    }
    throw new UserFormatError(`${dir}: ${ioMessage(err)} (LOGDIAG_FORMATS_DIR)`);
  }
  const defined = new Map(taken);
  const out: UserLogFormat[] = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    for (const f of await loadUserFormats(join(dir, name), defined)) {
      defined.set(f.name, f.origin);
      out.push(f);
    }
  }
  return out;
}

/**
 * The user formats of one run: the `--formats` files in the order given, then the config
 * directory. A format in the config directory with the name of one given by `--formats` is
 * replaced by it; the same name twice among the `--formats` files (or in the directory) is an error.
 */
export async function loadRunFormats(
  files: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<UserLogFormat[]> {
  const explicit: UserLogFormat[] = [];
  const defined = new Map<string, string>();
  for (const file of [...new Set(files)]) {
    for (const f of await loadUserFormats(file, defined)) {
      defined.set(f.name, f.origin);
      explicit.push(f);
    }
  }
  const fromDir = await userFormatsFromConfigDir(env);
  return [...explicit, ...fromDir.filter((f) => !defined.has(f.name))];
}
