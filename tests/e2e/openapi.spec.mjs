// The agent API's OpenAPI document (issue 18), as the relay serves it: valid OpenAPI 3.1 by
// `@seriousme/openapi-schema-validator`, and every answer of every agent operation, good and
// refused, documented for its status and valid against its schema by Ajv (JSON Schema
// 2020-12, OpenAPI 3.1's dialect). Neither checker is ours. (relay/src/openapi.rs checks the
// document against the router and the wire types on the host.)
import { createRequire } from 'node:module';
import { test, expect } from '@playwright/test';
import { relay, site, agentKey } from './pigeon.mjs';
import { shopperThread } from './inbox-helpers.mjs';

const require = createRequire(import.meta.url);
const Ajv2020 = require('ajv/dist/2020').default;
const { Validator } = require('@seriousme/openapi-schema-validator');

test('the OpenAPI document is valid 3.1, and every agent answer is documented and fits its schema', async () => {
  const served = await fetch(`${relay()}/v1/openapi.json`);
  expect(served.status).toBe(200);
  expect(served.headers.get('content-type')).toContain('application/json');
  const doc = await served.json();
  const checked = await new Validator().validate(doc);
  expect(checked.valid, JSON.stringify(checked.errors)).toBe(true);

  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema(doc, 'openapi');
  const seen = new Set();
  /// Calls `method path` with the agent key (or `key`), checks the answer against the
  /// document's `template` operation, returns the parsed body.
  async function call(method, template, path, { body, bytes, key = agentKey(), status } = {}) {
    const headers = { authorization: `Bearer ${key}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const sent = bytes ?? (body === undefined ? undefined : JSON.stringify(body));
    const res = await fetch(`${relay()}${path}`, { method, headers, body: sent });
    const text = await res.text();
    if (status) expect(res.status, `${method} ${path}: ${text}`).toBe(status);
    const op = doc.paths[template]?.[method.toLowerCase()];
    expect(op, `${method} ${template} is documented`).toBeTruthy();
    const documented = op.responses[String(res.status)];
    expect(documented, `${method} ${template} answered ${res.status}, which the document does not list: ${text}`).toBeTruthy();
    seen.add(`${method} ${template}`);
    const schema = documented.content?.['application/json']?.schema;
    // A file's bytes: documented by its type.
    if (!schema && documented.content && res.headers.get('content-type') !== 'application/json') {
      expect(Object.keys(documented.content), `${method} ${path} answered ${res.headers.get('content-type')}`).toContain(res.headers.get('content-type'));
      return text;
    }
    if (!schema) {
      expect(text, `${method} ${path} ${res.status} has no body`).toBe('');
      return undefined;
    }
    const json = JSON.parse(text);
    const validate = ajv.getSchema(`openapi${schema.$ref}`);
    expect(validate(json), `${method} ${path} ${res.status}: ${JSON.stringify(validate.errors)}\n${text}`).toBe(true);
    return json;
  }

  const { id } = await shopperThread(['Does the OpenAPI document match?']);
  const conv = '/v1/agent/conversations/{id}';
  const sites = '/v1/agent/sites/{site}';
  await call('GET', `${sites}/conversations`, `/v1/agent/sites/${site()}/conversations`, { status: 200 });
  await call('GET', `${sites}/conversations`, `/v1/agent/sites/${site()}/conversations?status=closed`, { status: 200 });
  await call('GET', `${sites}/conversations`, `/v1/agent/sites/${site()}/conversations?status=maybe`, { status: 422 });
  await call('GET', `${sites}/conversations`, `/v1/agent/sites/${site()}/conversations`, { key: 'wrong', status: 401 });
  await call('GET', `${conv}/messages`, `/v1/agent/conversations/${id}/messages?after=0&limit=5`, { status: 200 });
  await call('GET', `${conv}/messages`, `/v1/agent/conversations/${id}/messages?last=1`, { status: 200 });
  await call('GET', `${conv}/messages`, `/v1/agent/conversations/${id}/messages?limit=9999`, { status: 422 });
  await call('GET', `${conv}/messages`, '/v1/agent/conversations/0123456789abcdef0123456789abcdef/messages', { status: 401 });
  const reply = { client_id: 'openapi-1', body: 'Yes, it does.', author_name: 'Ana' };
  await call('POST', `${conv}/messages`, `/v1/agent/conversations/${id}/messages`, { body: reply, status: 201 });
  await call('POST', `${conv}/messages`, `/v1/agent/conversations/${id}/messages`, { body: reply, status: 200 });
  await call('POST', `${conv}/messages`, `/v1/agent/conversations/${id}/messages`, { body: { ...reply, body: 'Another text' }, status: 409 });
  await call('POST', `${conv}/messages`, `/v1/agent/conversations/${id}/messages`, { body: { client_id: 'openapi-2', body: '  ' }, status: 422 });
  await call('POST', `${conv}/read`, `/v1/agent/conversations/${id}/read`, { body: { seq: 2 }, status: 204 });
  await call('POST', `${conv}/read`, `/v1/agent/conversations/${id}/read`, { body: { seq: -1 }, status: 400 });
  await call('POST', `${conv}/read`, `/v1/agent/conversations/${id}/read`, { body: { seq: 2 ** 53 + 10 }, status: 422 });
  // Files: a PDF stored once, read back; refusals documented.
  const pdf = '%PDF-1.4\n%%EOF\n';
  const up = `/v1/agent/conversations/${id}/files?client_id=openapi-f1&name=Rechnung.pdf`;
  const file = await call('POST', `${conv}/files`, up, { bytes: pdf, status: 201 });
  await call('POST', `${conv}/files`, up, { bytes: pdf, status: 200 });
  await call('POST', `${conv}/files`, `/v1/agent/conversations/${id}/files?client_id=openapi-f2`, { bytes: '<svg onload=alert(1)>', status: 415 });
  await call('POST', `${conv}/files`, `/v1/agent/conversations/${id}/files?client_id=openapi-f3`, { bytes: '', status: 422 });
  await call('POST', `${conv}/files`, `/v1/agent/conversations/${id}/files?client_id=openapi-1`, { bytes: pdf, status: 409 });
  const got = await call('GET', `${conv}/files/{file}`, `/v1/agent/conversations/${id}/files/${file.message.attachments[0].id}`, { status: 200 });
  expect(got).toBe(pdf);
  await call('GET', `${conv}/files/{file}`, `/v1/agent/conversations/${id}/files/${'0'.repeat(32)}`, { status: 404 });
  await call('POST', `${conv}/close`, `/v1/agent/conversations/${id}/close`, { status: 204 });

  const report = await call('GET', `${sites}/metrics`, `/v1/agent/sites/${site()}/metrics?from=2026-01-01&to=2026-12-31`, { status: 200 });
  expect(report.per_day.length).toBe(365);
  await call('GET', `${sites}/metrics`, `/v1/agent/sites/${site()}/metrics?from=2026-12-31&to=2026-01-01`, { status: 422 });

  const hooks = `${sites}/webhooks`;
  await call('GET', hooks, `/v1/agent/sites/${site()}/webhooks`, { status: 200 });
  await call('POST', hooks, `/v1/agent/sites/${site()}/webhooks`, { body: { url: 'gopher://x' }, status: 422 });
  const made = await call('POST', hooks, `/v1/agent/sites/${site()}/webhooks`, { body: { url: 'http://127.0.0.1:9/openapi', events: ['conversation.closed'] }, status: 201 });
  const ep = made.endpoint.id;
  await call('PATCH', `${hooks}/{endpoint}`, `/v1/agent/sites/${site()}/webhooks/${ep}`, { body: { enabled: false, rotate_secret: true }, status: 200 });
  await call('PATCH', `${hooks}/{endpoint}`, `/v1/agent/sites/${site()}/webhooks/ep_none`, { body: { enabled: false }, status: 404 });
  await call('GET', `${hooks}/{endpoint}/deliveries`, `/v1/agent/sites/${site()}/webhooks/${ep}/deliveries`, { status: 200 });
  // Port 9 (discard) answers nothing: the test event's answer says so.
  const tried = await call('POST', `${hooks}/{endpoint}/test`, `/v1/agent/sites/${site()}/webhooks/${ep}/test`, { status: 200 });
  expect(tried.delivered).toBe(false);
  await call('POST', `${hooks}/{endpoint}/test`, `/v1/agent/sites/${site()}/webhooks/ep_none/test`, { status: 404 });
  await call('POST', `${hooks}/{endpoint}/deliveries/{delivery}/resend`, `/v1/agent/sites/${site()}/webhooks/${ep}/deliveries/1/resend`, { status: 422 });
  await call('PATCH', `${hooks}/{endpoint}`, `/v1/agent/sites/${site()}/webhooks/${ep}`, { body: { enabled: true }, status: 200 });
  await call('POST', `${hooks}/{endpoint}/deliveries/{delivery}/resend`, `/v1/agent/sites/${site()}/webhooks/${ep}/deliveries/999999999/resend`, { status: 404 });
  await call('DELETE', `${hooks}/{endpoint}`, `/v1/agent/sites/${site()}/webhooks/${ep}`, { status: 204 });
  await call('DELETE', `${hooks}/{endpoint}`, `/v1/agent/sites/${site()}/webhooks/${ep}`, { status: 404 });

  // Every operation of the document was called.
  const all = Object.entries(doc.paths).flatMap(([p, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`));
  expect([...seen].sort()).toEqual(all.sort());
});
