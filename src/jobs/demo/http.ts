/** A tiny JSON client for the commerce API (Node's global fetch): the demo drives it as users would. */
export interface ApiResponse {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface ApiClient {
  url: string;
  call(
    method: string,
    path: string,
    options?: { body?: unknown; user?: string; admin?: boolean },
  ): Promise<ApiResponse>;
}

export function apiClient(url: string, adminToken = ''): ApiClient {
  return {
    url,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = {};
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      if (options.user) headers['x-user-id'] = options.user;
      if (options.admin) headers.authorization = `Bearer ${adminToken}`;
      const body = options.body === undefined ? undefined : JSON.stringify(options.body);
      return request(`${url}/api/v1${path}`, { method, headers, body });
    },
  };
}

/** One HTTP call; the answer's body parsed as JSON, or kept as text (an error page, /metrics). */
export async function request(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
): Promise<ApiResponse> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: res.status, body };
}

/** Throws with the API's own error message when the status is not the expected one. */
export function expectStatus(res: ApiResponse, status: number, what: string): void {
  if (res.status !== status) {
    const detail = res.body?.error?.message ?? JSON.stringify(res.body);
    throw new Error(`${what}: HTTP ${res.status} (${detail})`);
  }
}
