// Pigeon loader: the only script a page loads before the shopper shows intent.
// It draws the launcher inside a Shadow DOM at once, queues Pigeon(...) commands, and
// imports the Leptos panel (wasm) on hover, focus or click, or when the browser is idle if
// it already holds a thread for this site. Before the shopper acts it writes no storage,
// sets no cookie and opens no connection.
(() => {
  var script = document.currentScript;
  if (!script || window.__pigeonLoaded) return;
  window.__pigeonLoaded = true;
  var relay = new URL(script.src).origin;
  var site = script.dataset.site;
  var queued = (window.Pigeon && window.Pigeon.q) || [];
  var listeners = {};
  var module = null;  // promise of the imported, initialised wasm module
  var widget = null;  // promise of the mounted panel
  var open = false;
  var cart, page, extras;
  var who; // Pigeon('identify', ...): the signed-in customer, as the shop's server signed them
  // A "Continue the conversation" link from an email (the token rides in the fragment): the
  // panel opens at once, and the widget takes the token out of the address bar.
  var resume = /pigeon-resume=/.test(location.hash);

  var CSS =
    ':host{all:initial}' +
    '.launcher{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;' +
    'background:var(--pg-brand,#2f6fed);color:#fff;cursor:pointer;box-shadow:0 4px 14px #0004;' +
    'display:grid;place-items:center;z-index:2147483000}' +
    'svg{width:28px;fill:#fff}' +
    '.badge{position:absolute;top:-4px;right:-4px;min-width:20px;border-radius:10px;background:#d93025;font:700 12px/20px sans-serif}';

  var host = document.createElement('div');
  host.dataset.pigeon = '';
  var root = host.attachShadow({ mode: 'open' });
  var base = new CSSStyleSheet();
  base.replaceSync(CSS);
  root.adoptedStyleSheets = [base];

  var launcher = document.createElement('button');
  launcher.className = 'launcher';
  launcher.type = 'button';
  launcher.setAttribute('aria-haspopup', 'dialog');
  launcher.dataset.testid = 'launcher';
  var svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  var path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 2-2z');
  svg.append(path);
  var badge = document.createElement('span');
  badge.className = 'badge';
  badge.hidden = true;
  badge.dataset.testid = 'badge';
  launcher.append(svg, badge);

  var slot = document.createElement('div');
  slot.className = 'slot';
  slot.hidden = true;
  root.append(slot, launcher);

  var unread = 0;
  var de = /^de/i.test(document.documentElement.lang || navigator.language);
  function label() {
    launcher.setAttribute('aria-expanded', open);
    launcher.setAttribute('aria-label', (open ? (de ? 'Chat schließen' : 'Close chat') : (de ? 'Chat öffnen' : 'Open chat')) +
      (unread && !open ? ', ' + badge.textContent + (de ? ' ungelesen' : ' unread') : ''));
  }
  label();

  function emit(name, data) {
    (listeners[name] || []).forEach((fn) => { setTimeout(fn, 0, data); }); // a throwing listener cannot break Pigeon
  }

  // The panel's code: JS glue, stylesheet and wasm in parallel (one round trip, not two).
  function loadModule() {
    if (!module) {
      var w = relay + '/widget/pigeon';
      module = Promise.all([
        import(w + '_widget.js'),
        fetch(w + '.css').then((r) => r.text()),
        fetch(w + '_widget_bg.wasm')
      ]).then((parts) => {
        var panelCss = new CSSStyleSheet();
        panelCss.replaceSync(parts[1]);
        root.adoptedStyleSheets = [base, panelCss];
        return parts[0].default({ module_or_path: parts[2] }).then(() => parts[0]);
      });
      module.catch(() => { module = null; }); // a failed load is retried on next intent
    }
    return module;
  }

  // The extras module (shop systems' carts, signed identity, a conversation's life), imported
  // when first needed. A failed import is tried again at the next need.
  function loadExtras() {
    extras = extras || import(relay + '/widget/pigeon_extras.js').then((m) => m.default().then(() => m));
    extras.catch(() => { extras = 0; });
    return extras;
  }

  // A signed-in customer's conversation is put in this browser's storage before the panel
  // shows it. A refusal (wrong signature, identity off: the extras log it) never blocks the panel.
  function identified() {
    return who && loadExtras().then((m) => m.identify(relay, site, who)).catch((e) => { emit('error', e); });
  }

  // Photos and files (the extras send and show them): those chosen, pasted or dropped, or
  // none (a message that is only files is in the thread, or files wait to go).
  function files(list) {
    loadExtras().then((m) => { m.files(relay, site, root, list); }, () => {});
  }
  function dropped(e, list) {
    if (list && list[0]) {
      e.preventDefault();
      files(list);
    }
  }
  // A paste of text stays text (an office program's copy carries a picture of it too).
  slot.onpaste = (e) => {
    var d = e.clipboardData;
    dropped(e, !d.getData('text') && d.files);
  };
  slot.ondragover = (e) => { e.preventDefault(); };
  slot.ondrop = (e) => { dropped(e, e.dataTransfer.files); };
  // The attach button (drawn below): a file chooser, which on phones offers the camera.
  slot.onclick = (e) => {
    if (e.target.closest('.pg-attach')) {
      var input = document.createElement('input');
      input.type = 'file';
      input.multiple = 1;
      input.accept = 'image/*,application/pdf';
      input.onchange = () => { files(input.files); };
      input.click();
    }
  };

  function mount() {
    if (!widget) {
      widget = Promise.all([loadModule(), identified()]).then((parts) => {
        // A note from Pigeon in the thread (a close, a rating asked, a new conversation that
        // follows one): the extras show the conversation's life under it.
        // (A failed import is tried again at the next change.)
        new MutationObserver(() => {
          if (slot.querySelector('[data-author=system]')) loadExtras().then((m) => { m.lifecycle(relay, site, root); }, () => {});
          var form = slot.querySelector('.pg-composer');
          if (form && !form.querySelector('.pg-attach')) form.insertAdjacentHTML('afterbegin', '<button type=button class=pg-attach data-testid=attach aria-label="' +
            (de ? 'Foto oder Datei anhängen' : 'Attach a photo or file') + '">+</button>');
          try {
            if (slot.querySelector('[data-seq] p:empty') || localStorage['pigeon-files:' + site]) files();
          } catch (e) { /* no storage: files wait for the next use */ }
        }).observe(slot, { childList: true, subtree: true });
        return parts[0].mount(slot, relay, site, {
          on_close: () => { setOpen(false); },
          on_unread: (n) => {
            if (n > unread) emit('message', { unread: n });
            unread = n;
            badge.textContent = n > 9 ? '9+' : n;
            badge.hidden = !n;
            label();
          }
        });
      }).then((w) => {
        if (cart !== undefined) w.set_cart(cart);
        if (page !== undefined) w.set_page(page);
        w.set_open(open);
        return w;
      });
      widget.catch(() => { widget = null; });
    }
    return widget;
  }

  function setOpen(want) {
    if (want === open) return;
    open = want;
    label();
    if (open) {
      mount().then((w) => {
        if (!open) return;
        slot.hidden = false;
        w.set_open(true);
        var input = root.querySelector('textarea');
        if (input) input.focus();
        emit('open');
        // A shop system's cart (data-platform): the extras module reads it from the first
        // opening on, and again whenever it changes.
        if (script.dataset.platform) loadExtras().then((m) => { m.carts(); });
      });
    } else {
      slot.hidden = true;
      if (widget) widget.then((w) => { w.set_open(false); });
      launcher.focus();
      emit('close');
    }
  }

  // Does this browser already hold a thread for this site? Only reads the list of
  // databases; opening one would create it.
  function hasThread() {
    return (indexedDB.databases ? indexedDB.databases() : Promise.resolve([])).then((list) => list.some((d) => d.name === 'pigeon:' + site), () => false);
  }

  launcher.addEventListener('pointerenter', loadModule, { once: true });
  launcher.addEventListener('focus', loadModule, { once: true });
  launcher.addEventListener('click', () => { setOpen(!open); });
  root.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && open) setOpen(false);
  });

  var commands = {
    open: () => { setOpen(true); },
    close: () => { setOpen(false); },
    on: (name, fn) => { (listeners[name] = listeners[name] || []).push(fn); },
    cart: (c) => { cart = c; if (widget) widget.then((w) => { w.set_cart(c); }); },
    page: (p) => { page = p; if (widget) widget.then((w) => { w.set_page(p); }); },
    forget: () => drop(true),
    // Signed in (SPA included: a mounted panel, once it listens to its tabs, switches
    // threads), or signed out (null): a signed-in customer's thread leaves this browser and
    // stays theirs on the relay; an anonymous visitor's stays.
    identify: (next) => {
      who = next;
      if (next) return widget && widget.then(identified);
      return hasThread().then((has) => has && loadExtras().then((m) => m.identify(relay, site, null))).then((theirs) => theirs && drop(false));
    }
  };

  // This browser's thread goes (`erase`: on the relay too), and the panel with it.
  function drop(erase) {
    // A mounted widget resolves to itself (truthy); otherwise only mount if a thread exists.
    var done = (widget || hasThread()).then((has) => {
      if (!has) return;
      return mount().then((w) => w.forget(erase));
    }).then(() => {
      setOpen(false);
      widget = null;
      slot.replaceChildren();
      unread = 0;
      badge.hidden = true;
      label();
      emit('forget');
    });
    done.catch((e) => { emit('error', e); });
    return done;
  }
  function run(args) {
    var fn = commands[args[0]];
    return fn ? fn(...[].slice.call(args, 1)) : undefined;
  }
  window.Pigeon = (...args) => run(args);
  queued.forEach(run);

  function attach() {
    document.body.appendChild(host);
    if (resume) return setOpen(true);
    hasThread().then((has) => {
      if (!has) return;
      var idle = window.requestIdleCallback || ((f) => setTimeout(f, 200));
      idle(() => { mount(); });
    });
  }
  if (document.body) attach();
  else document.addEventListener('DOMContentLoaded', attach);
})();
