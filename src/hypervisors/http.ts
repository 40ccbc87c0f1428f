// One HTTP POST to a vendor's API (XenAPI, vSphere), given up after a timeout: an endpoint
// that accepts the connection and never answers must fail the run, naming itself, rather
// than hang it. The reason is said in words (refused, no answer within N ms, DNS).
export interface HttpReply {
  readonly status: number;
  readonly text: string;
  readonly headers: Headers;
}

/** Vendor API calls not answered in this long fail (xenserver/vsphere requestTimeoutMs). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export async function post(url: string, init: { readonly headers: Record<string, string>; readonly body: string }, timeoutMs: number): Promise<HttpReply> {
  try {
    // The signal covers reading the body too: an answer that stalls half-way times out as well.
    const response = await fetch(url, { method: 'POST', headers: init.headers, body: init.body, signal: AbortSignal.timeout(timeoutMs) });
    return { status: response.status, text: await response.text(), headers: response.headers };
  } catch (error) {
    throw new Error(failureReason(error, timeoutMs), { cause: error });
  }
}

function failureReason(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  if (e.cause?.code === 'ECONNREFUSED') return 'connection refused';
  if (e.cause?.code) return `${e.cause.code}${e.cause.message ? ` (${e.cause.message})` : ''}`;
  // fetch's own refusals (a port browsers block, say) are only in the cause's message.
  return e.cause?.message ?? e.message ?? String(error);
}
