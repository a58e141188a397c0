/**
 * Runs `/usr/bin/kubectl` against a test control plane, with argv (never a shell), and
 * optionally a manifest on stdin; rejects with kubectl's stderr.
 */
import { execFile } from 'node:child_process';

export const KUBECTL = '/usr/bin/kubectl';

/** kubectl `args` with `--kubeconfig`; resolves with stdout. */
export function kubectl(kubeconfig: string, args: readonly string[], stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      KUBECTL,
      [`--kubeconfig=${kubeconfig}`, ...args],
      { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`kubectl ${args.join(' ')}: ${stderr.trim() || error.message}`));
        else resolve(stdout);
      },
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
    else child.stdin?.end();
  });
}
