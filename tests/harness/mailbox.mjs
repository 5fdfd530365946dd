// The local mailbox: the mail the relay sent (wrangler keeps it and lists it through its
// local explorer API) and replies delivered to the relay's email handler through
// wrangler's local inbound endpoint. Used by the demo's mailbox page and the e2e tests.

/// The decoded text of one part (`text/plain` or `text/html`) of a mail the relay composed.
export function part(raw, kind) {
  const start = raw.indexOf(`Content-Type: ${kind}`);
  if (start < 0) return '';
  const rest = raw.slice(start);
  const body = rest.slice(rest.indexOf('\r\n\r\n') + 4);
  const end = body.indexOf('--');
  return Buffer.from((end < 0 ? body : body.slice(0, end)).replace(/\r\n/g, ''), 'base64').toString('utf8');
}

/// One header of the composed message, unfolded.
export function header(raw, name) {
  const head = raw.split('\r\n\r\n')[0].replace(/\r\n /g, ' ');
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(name.toLowerCase() + ': '));
  return line ? line.slice(name.length + 2) : undefined;
}

/// Every mail the relay sent in this run, oldest first: {to, subject, replyTo, replyAddress,
/// sentAt, messageId, text, html}.
export async function sentMail(relayUrl) {
  const api = `${relayUrl}/cdn-cgi/local/explorer/api/local/email/sending`;
  const items = [];
  let cursor = '';
  for (;;) {
    const page = await (await fetch(`${api}?per_page=100${cursor ? `&cursor=${cursor}` : ''}`)).json();
    items.push(...(page.result || []));
    cursor = page.result_info?.cursor;
    if (!cursor || !page.result_info?.has_more) break;
  }
  const mails = await Promise.all(items.map(async (item) => {
    const detail = (await (await fetch(`${api}?email_id=${encodeURIComponent(item.messageId)}`)).json()).result || {};
    const raw = detail.raw || '';
    const replyTo = item.replyTo || '';
    return {
      to: item.to[0],
      subject: item.subject,
      replyTo,
      replyAddress: (replyTo.match(/<([^>]+)>/) || [])[1] || replyTo,
      sentAt: item.sentAt,
      messageId: header(raw, 'Message-ID'),
      text: part(raw, 'text/plain'),
      html: part(raw, 'text/html'),
    };
  }));
  return mails.sort((a, b) => a.sentAt.localeCompare(b.sentAt));
}

/// A fresh inbox sign-in link for `email` (the newest such mail after asking for one).
export async function signinLink(relayUrl, email) {
  const links = async () => (await sentMail(relayUrl)).filter((m) => m.to === email && m.subject === 'Your Pigeon sign-in link');
  const before = (await links()).length;
  await fetch(`${relayUrl}/v1/inbox/signin`, { method: 'POST', headers: { 'content-type': 'application/json', origin: relayUrl }, body: JSON.stringify({ email }) });
  for (;;) {
    const mails = await links();
    if (mails.length > before) return mails.at(-1).text.match(/\S+\/inbox\/#signin=[0-9a-f]+/)[0];
    await new Promise((r) => setTimeout(r, 100));
  }
}

/// An inbox session for `email`: the `pigeon_inbox=<token>` cookie, as the browser sends it.
export async function inboxCookie(relayUrl, email) {
  const token = (await signinLink(relayUrl, email)).split('#signin=')[1];
  const res = await fetch(`${relayUrl}/v1/inbox/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: relayUrl }, body: JSON.stringify({ token }) });
  if (!res.ok) throw new Error(`session: ${res.status} ${await res.text()}`);
  return res.headers.get('set-cookie').split(';')[0];
}

/// Waits for a mail matching `predicate`.
export async function waitForMail(relayUrl, predicate, timeoutMs = 30_000) {
  const start = Date.now();
  for (;;) {
    const found = (await sentMail(relayUrl)).find(predicate);
    if (found) return found;
    if (Date.now() - start > timeoutMs) throw new Error('no such mail within ' + timeoutMs + ' ms');
    await new Promise((r) => setTimeout(r, 300));
  }
}

/// A reply as Gmail writes it: the answer, the attribution line, the quoted original.
export function gmailReply({ from, to, mail, body, id = `${Date.now()}.${Math.random().toString(16).slice(2)}@mail.local` }) {
  const quoted = mail.text.split(/\r?\n/).map((l) => `> ${l}`).join('\r\n');
  const parent = mail.messageId ? `In-Reply-To: ${mail.messageId}\r\nReferences: ${mail.messageId}\r\n` : '';
  return `From: ${from}\r\nTo: ${to}\r\nSubject: Re: ${mail.subject}\r\nDate: ${new Date().toUTCString()}\r\n` +
    `Message-ID: <${id}>\r\n${parent}MIME-Version: 1.0\r\nContent-Type: text/plain; charset="UTF-8"\r\n\r\n` +
    `${body.replace(/\r?\n/g, '\r\n')}\r\n\r\nOn ${new Date().toUTCString()} ${mail.replyTo.replace(/<.*/, '').trim() || 'Pigeon'} <notify@mail.pigeon.test> wrote:\r\n${quoted}\r\n`;
}

/// Delivers a raw mail to the relay's email handler. Resolves to {status, text}; a refusal
/// carries the relay's reason in `text`.
export async function deliver(relayUrl, { from, to, raw }) {
  const res = await fetch(`${relayUrl}/cdn-cgi/local/email?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, { method: 'POST', body: raw });
  return { status: res.status, text: await res.text() };
}
