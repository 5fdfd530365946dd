// Pigeon loader: the only script a page loads before the shopper shows intent.
// It draws the launcher inside a Shadow DOM at once, queues Pigeon(...) commands, and
// imports the Leptos panel (wasm) on hover, focus or click, or when the browser is idle if
// it already holds a thread for this site. Before the shopper acts it writes no storage,
// sets no cookie and opens no connection.
(function () {
  var script = document.currentScript;
  if (!script || window.__pigeonLoaded) return;
  window.__pigeonLoaded = true;
  var relay = new URL(script.src).origin;
  var site = script.getAttribute('data-site');
  var queued = (window.Pigeon && window.Pigeon.q) || [];
  var listeners = {};
  var module = null;  // promise of the imported, initialised wasm module
  var widget = null;  // promise of the mounted panel
  var open = false;
  var cart, page;

  var CSS =
    ':host{all:initial}' +
    '.launcher{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;' +
    'background:var(--pg-brand,#2f6fed);color:#fff;cursor:pointer;box-shadow:0 4px 14px #0004;' +
    'display:grid;place-items:center;z-index:2147483000}' +
    'svg{width:28px;fill:#fff}' +
    '.badge{position:absolute;top:-4px;right:-4px;min-width:20px;border-radius:10px;background:#d93025;font:700 12px/20px sans-serif}';

  var host = document.createElement('div');
  host.setAttribute('data-pigeon', '');
  var root = host.attachShadow({ mode: 'open' });
  var base = new CSSStyleSheet();
  base.replaceSync(CSS);
  root.adoptedStyleSheets = [base];

  var launcher = document.createElement('button');
  launcher.className = 'launcher';
  launcher.type = 'button';
  launcher.setAttribute('aria-haspopup', 'dialog');
  launcher.setAttribute('aria-expanded', 'false');
  launcher.setAttribute('data-testid', 'launcher');
  var svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  var path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 2-2z');
  svg.appendChild(path);
  var badge = document.createElement('span');
  badge.className = 'badge';
  badge.hidden = true;
  badge.setAttribute('data-testid', 'badge');
  launcher.appendChild(svg);
  launcher.appendChild(badge);

  var slot = document.createElement('div');
  slot.className = 'slot';
  slot.hidden = true;
  root.appendChild(slot);
  root.appendChild(launcher);

  var unread = 0;
  var de = /^de/i.test(document.documentElement.lang || navigator.language);
  function label() {
    launcher.setAttribute('aria-label', (open ? (de ? 'Chat schließen' : 'Close chat') : (de ? 'Chat öffnen' : 'Open chat')) +
      (unread && !open ? ' (' + unread + (de ? ' ungelesen)' : ' unread)') : ''));
  }
  label();

  function emit(name, data) {
    (listeners[name] || []).forEach(function (fn) { setTimeout(fn, 0, data); }); // a throwing listener cannot break Pigeon
  }

  // The panel's code: JS glue and stylesheet in parallel, then the wasm.
  function loadModule() {
    if (!module) {
      module = Promise.all([
        import(relay + '/widget/pigeon_widget.js'),
        fetch(relay + '/widget/pigeon.css').then(function (r) { return r.text(); })
      ]).then(function (parts) {
        var panelCss = new CSSStyleSheet();
        panelCss.replaceSync(parts[1]);
        root.adoptedStyleSheets = [base, panelCss];
        return parts[0].default({ module_or_path: relay + '/widget/pigeon_widget_bg.wasm' }).then(function () { return parts[0]; });
      });
      module.catch(function () { module = null; }); // a failed load is retried on next intent
    }
    return module;
  }

  function mount() {
    if (!widget) {
      widget = loadModule().then(function (m) {
        return m.mount(slot, relay, site, {
          on_close: function () { setOpen(false); },
          on_unread: function (n) {
            if (n > unread) emit('message', { unread: n });
            unread = n;
            badge.textContent = n > 9 ? '9+' : String(n);
            badge.hidden = !n;
            label();
          }
        });
      }).then(function (w) {
        if (cart !== undefined) w.set_cart(cart);
        if (page !== undefined) w.set_page(page);
        w.set_open(open);
        return w;
      });
      widget.catch(function () { widget = null; });
    }
    return widget;
  }

  function setOpen(want) {
    if (want === open) return;
    open = want;
    launcher.setAttribute('aria-expanded', String(open));
    label();
    if (open) {
      mount().then(function (w) {
        if (!open) return;
        slot.hidden = false;
        w.set_open(true);
        var input = root.querySelector('textarea');
        if (input) input.focus();
        emit('open');
      });
    } else {
      slot.hidden = true;
      if (widget) widget.then(function (w) { w.set_open(false); });
      launcher.focus();
      emit('close');
    }
  }

  // Does this browser already hold a thread for this site? Only reads the list of
  // databases; opening one would create it.
  function hasThread() {
    return (indexedDB.databases ? indexedDB.databases() : Promise.resolve([])).then(function (list) {
      return list.some(function (d) { return d.name === 'pigeon:' + site; });
    }, function () { return false; });
  }

  launcher.addEventListener('pointerenter', loadModule, { once: true });
  launcher.addEventListener('focus', loadModule, { once: true });
  launcher.addEventListener('click', function () { setOpen(!open); });
  root.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && open) setOpen(false);
  });

  var commands = {
    open: function () { setOpen(true); },
    close: function () { setOpen(false); },
    on: function (name, fn) { (listeners[name] = listeners[name] || []).push(fn); },
    cart: function (c) { cart = c; if (widget) widget.then(function (w) { w.set_cart(c); }); },
    page: function (p) { page = p; if (widget) widget.then(function (w) { w.set_page(p); }); },
    forget: function () {
      var done = (widget ? Promise.resolve(true) : hasThread()).then(function (has) {
        if (!has) return;
        return mount().then(function (w) { return w.forget(); });
      }).then(function () {
        setOpen(false);
        widget = null;
        slot.replaceChildren();
        unread = 0;
        badge.hidden = true;
        label();
        emit('forget');
      });
      done.catch(function (e) { emit('error', e); });
      return done;
    }
  };
  function run(args) {
    var fn = commands[args[0]];
    return fn ? fn.apply(null, Array.prototype.slice.call(args, 1)) : undefined;
  }
  window.Pigeon = function () { return run(arguments); };
  queued.forEach(run);

  function attach() {
    document.body.appendChild(host);
    hasThread().then(function (has) {
      if (!has) return;
      var idle = window.requestIdleCallback || function (f) { setTimeout(f, 200); };
      idle(function () { mount(); });
    });
  }
  if (document.body) attach();
  else document.addEventListener('DOMContentLoaded', attach);
})();
