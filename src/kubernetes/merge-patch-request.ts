/**
 * One JSON merge patch sent to the API server over HTTPS with the kubeconfig's credentials,
 * for the paths the generic object client does not reach (a `status` subresource). Never
 * rejects: a failure to connect is status 0 with the reason as the text.
 */
import { request, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** The API server's answer: HTTP status (0: no answer) and body. */
export interface PatchAnswer {
  readonly status: number;
  readonly text: string;
}

export async function sendMergePatch(config: KubeConfig, url: URL, body: string): Promise<PatchAnswer> {
  const options: RequestOptions = {
    method: 'PATCH',
    headers: {
      'content-type': 'application/merge-patch+json',
      'content-length': Buffer.byteLength(body),
    },
    timeout: 30_000,
  };
  await config.applyToHTTPSOptions(options);
  return new Promise<PatchAnswer>((resolve, reject) => {
    const req = request(url, options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end(body);
  }).catch((error: unknown) => ({ status: 0, text: error instanceof Error ? error.message : String(error) }));
}
