// The demo's mailbox: lists what the relay sent (through the demo server, which reads
// wrangler's local mail store) and sends answers back as the recipient would.
(function () {
  var list, status;

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  // Mail text as text; only links to this shop and the inbox's sign-in links become clickable.
  function body(text) {
    var pre = el('pre');
    text.split(/(https?:\/\/\S+)/).forEach(function (chunk, i) {
      var signin = /^https?:\/\/[^/]+\/inbox\/#signin=[0-9a-f]+$/.test(chunk);
      if (i % 2 === 1 && (chunk.indexOf(location.origin + '/') === 0 || signin)) {
        var a = el('a', chunk.length > 70 ? chunk.slice(0, 70) + '…' : chunk);
        a.href = chunk;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        a.setAttribute('data-testid', signin ? 'signin-link' : 'resume-link');
        pre.appendChild(a);
      } else {
        pre.appendChild(document.createTextNode(chunk));
      }
    });
    return pre;
  }

  function render(mails) {
    list.replaceChildren();
    mails.slice().reverse().forEach(function (m) {
      var li = el('li', undefined, 'mail');
      li.setAttribute('data-testid', 'mail');
      li.appendChild(el('h2', m.subject));
      li.appendChild(el('p', 'To ' + m.to + ' · ' + new Date(m.sentAt).toLocaleTimeString() + (m.replyAddress ? ' · Reply-To ' + m.replyAddress : ''), 'meta'));
      li.appendChild(body(m.text));
      // Mail without a reply address (a sign-in link) takes no answer.
      if (!m.replyAddress) {
        list.appendChild(li);
        return;
      }
      var form = el('form');
      var input = el('textarea');
      input.placeholder = 'Answer as ' + m.to + ' (the quoted email is added, as a mail client would)';
      input.setAttribute('aria-label', 'Answer as ' + m.to);
      var send = el('button', 'Reply as ' + m.to);
      send.type = 'submit';
      form.append(input, send);
      form.addEventListener('submit', function (e) {
        e.preventDefault();
        if (!input.value.trim()) return;
        send.disabled = true;
        fetch('/api/reply', { method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sentAt: m.sentAt, replyAddress: m.replyAddress, body: input.value }) })
          .then(function (r) { return r.json(); })
          .then(function (r) {
            status.textContent = r.status === 200 ? 'Delivered to the relay: it is in the chat now.' : 'Refused: ' + r.text;
            if (r.status === 200) input.value = '';
          })
          .finally(function () { send.disabled = false; });
      });
      li.appendChild(form);
      list.appendChild(li);
    });
    if (!mails.length) list.appendChild(el('li', 'No mail yet. Write in the shop\'s chat, then wait a few seconds.', 'hint'));
  }

  var last = '';
  function refresh() {
    fetch('/api/mail').then(function (r) { return r.json(); }).then(function (mails) {
      var key = mails.map(function (m) { return m.sentAt; }).join();
      if (key !== last) { last = key; render(mails); }
    }).catch(function () { status.textContent = 'The relay is not answering.'; });
  }

  document.addEventListener('DOMContentLoaded', function () {
    list = document.getElementById('mails');
    status = document.getElementById('status');
    refresh();
    setInterval(refresh, 2000);
  });
})();
