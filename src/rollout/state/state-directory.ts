/**
 * The state directory (`stateDir`, default `.aviary`) holds the control token, the rollout
 * journal, gates, releases and the pipelines' runs, so it is created readable by its owner
 * only (0700), and a directory that another user owns is refused: whoever owns it could read
 * the token or plant files the controller then trusts. See docs/security.md.
 */
import { mkdir, stat } from 'node:fs/promises';
import { AviaryError } from '../../errors.js';

/** Mode of a state directory Aviary creates: owner only. */
export const STATE_DIRECTORY_MODE = 0o700;

/**
 * Creates `dir` (and missing parents) with mode 0700 when it is missing, then checks it: a
 * directory owned by this process's user. An existing directory keeps its mode: loosening it
 * is the owner's choice.
 * @throws AviaryError AVIARY_STATE_NOT_OWNED when another user owns it;
 *   AVIARY_STATE_CORRUPT when it is not a directory
 */
export async function prepareStateDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: STATE_DIRECTORY_MODE });
  const info = await stat(dir);
  if (!info.isDirectory())
    throw new AviaryError('AVIARY_STATE_CORRUPT', `state directory ${dir}: expected a directory`);
  // process.getuid is undefined on Windows, where POSIX ownership does not apply.
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) {
    throw new AviaryError(
      'AVIARY_STATE_NOT_OWNED',
      `state directory ${dir}: owned by uid ${info.uid}, expected this user (uid ${uid})`,
    );
  }
}
