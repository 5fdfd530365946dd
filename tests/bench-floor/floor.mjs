// The benchmark's floor: the least a conversation object can do per message and still be a
// chat (store it, number it, broadcast it, acknowledge it), on the same workerd as Pigeon's
// relay. No token check, idempotency, validation, limits, index or email: what Pigeon pays
// for those is the gap `make bench-relay` shows. It speaks the subset of Pigeon's v1 wire the
// load generator uses: create, POST a message, page through messages, the live socket
// (`hello`, `send` → `ack`, `message` broadcasts, `ready`).
import { DurableObject } from 'cloudflare:workers';

const json = (value, status = 200) => new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });

export class Room extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec('CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY, client_id TEXT, body TEXT, created_at TEXT)');
    this.last = this.sql.exec('SELECT coalesce(max(seq), 0) AS s FROM messages').one().s;
  }

  store(clientId, body) {
    const message = { id: `m${this.last + 1}`, seq: this.last + 1, client_id: clientId, author: 'shopper', body, created_at: new Date().toISOString() };
    this.sql.exec('INSERT INTO messages (seq, client_id, body, created_at) VALUES (?, ?, ?, ?)', message.seq, clientId, body, message.created_at);
    this.last = message.seq;
    const frame = JSON.stringify({ type: 'message', message });
    for (const ws of this.ctx.getWebSockets()) {
      try { ws.send(frame); } catch { /* closing */ }
    }
    return message;
  }

  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname.endsWith('/live')) {
      const [client, server] = Object.values(new WebSocketPair());
      this.ctx.acceptWebSocket(server);
      return new Response(null, { status: 101, webSocket: client });
    }
    if (request.method === 'POST') {
      const { client_id, body } = await request.json();
      return json({ message: this.store(client_id, body) }, 201);
    }
    const after = Number(url.searchParams.get('after') ?? 0);
    const limit = Number(url.searchParams.get('limit') ?? 500);
    const rows = this.sql.exec('SELECT seq, client_id, body, created_at FROM messages WHERE seq > ? ORDER BY seq LIMIT ?', after, limit).toArray();
    const messages = rows.map((r) => ({ id: `m${r.seq}`, seq: r.seq, client_id: r.client_id, author: 'shopper', body: r.body, created_at: r.created_at }));
    return json({ messages, has_more: messages.length === limit });
  }

  webSocketMessage(ws, text) {
    const frame = JSON.parse(text);
    if (frame.type === 'hello') {
      ws.send(JSON.stringify({ type: 'ready', last_seq: this.last }));
    } else if (frame.type === 'send') {
      const message = this.store(frame.client_id, frame.body);
      ws.send(JSON.stringify({ type: 'ack', client_id: frame.client_id, message, created: true }));
    }
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const parts = url.pathname.split('/');
    if (url.pathname === '/v1/health') return new Response('ok');
    if (request.method === 'POST' && parts[2] === 'sites') {
      const id = crypto.randomUUID();
      return json({ conversation: { id, site: parts[3], created_at: new Date().toISOString() }, token: 'floor' }, 201);
    }
    if (parts[2] === 'conversations' && parts[3]) return env.ROOMS.get(env.ROOMS.idFromName(parts[3])).fetch(request);
    return new Response('not found', { status: 404 });
  },
};
