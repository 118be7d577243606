/**
 * Installs the index templates idempotently: one `GET /_index_template/<prefix>-*` reads what is
 * installed, and only templates whose `_meta.hash` differs from the wanted body are PUT. A PUT
 * with the same body would be idempotent too (same state), but it is a cluster-state update per
 * template on every cold start; comparing first makes a warm install two GET requests.
 *
 * Templates apply to indices created afterwards: today's index keeps the mapping it was created
 * with until tomorrow's index is created.
 *
 * @see https://docs.opensearch.org/latest/api-reference/index-apis/create-index-template/
 */
import type { Client } from '@opensearch-project/opensearch';
import {
  buildIndexTemplates,
  type FreeFormMapping,
  freeFormMappingFor,
  type IndexTemplateOptions,
} from './index-templates';

/** Options of {@link installIndexTemplates}. */
export interface InstallTemplatesOptions extends Omit<IndexTemplateOptions, 'freeForm'> {
  /** `auto` asks the cluster its version (`GET /`). @default 'auto' */
  readonly freeForm?: FreeFormMapping | 'auto';
}

/** What an install did. */
export interface InstallTemplatesResult {
  readonly freeForm: FreeFormMapping;
  /** Templates created or replaced. */
  readonly written: readonly string[];
  /** Templates already up to date. */
  readonly unchanged: readonly string[];
}

/**
 * Creates or updates this project's index templates.
 *
 * @throws the client's error when the cluster refuses a template (a user template with the same
 * priority and an overlapping pattern, missing permissions).
 */
export async function installIndexTemplates(
  client: Client,
  options: InstallTemplatesOptions,
): Promise<InstallTemplatesResult> {
  const freeForm =
    options.freeForm === undefined || options.freeForm === 'auto'
      ? await detectFreeForm(client)
      : options.freeForm;
  const templates = buildIndexTemplates({ ...options, freeForm });
  const installed = await installedHashes(client, `${options.prefix}-*`);
  const written: string[] = [];
  const unchanged: string[] = [];
  for (const template of templates) {
    if (installed.get(template.name) === template.body._meta.hash) {
      unchanged.push(template.name);
      continue;
    }
    await client.transport.request({
      method: 'PUT',
      path: `/_index_template/${encodeURIComponent(template.name)}`,
      body: template.body,
    });
    written.push(template.name);
  }
  return { freeForm, written, unchanged };
}

async function detectFreeForm(client: Client): Promise<FreeFormMapping> {
  try {
    const response = await client.transport.request({ method: 'GET', path: '/' });
    return freeFormMappingFor(response.body);
  } catch {
    // Serverless collections do not answer `GET /`: the mapping every version accepts.
    return 'disabled';
  }
}

/** Template name → `_meta.hash` of the installed templates matching `pattern`. */
async function installedHashes(client: Client, pattern: string): Promise<Map<string, string>> {
  const response = await client.transport.request(
    { method: 'GET', path: `/_index_template/${encodeURIComponent(pattern)}` },
    { ignore: [404] },
  );
  const hashes = new Map<string, string>();
  const templates = (response.body as { index_templates?: unknown } | undefined)?.index_templates;
  if (!Array.isArray(templates)) return hashes;
  for (const entry of templates as { name?: unknown; index_template?: { _meta?: { hash?: unknown } } }[]) {
    const hash = entry.index_template?._meta?.hash;
    if (typeof entry.name === 'string' && typeof hash === 'string') hashes.set(entry.name, hash);
  }
  return hashes;
}
