// Pigeon loader: the only script a page loads before the shopper shows intent.
// It draws the launcher inside a Shadow DOM at once, queues Pigeon(...) commands, and
// imports the Leptos panel (wasm) on hover, focus or click. Before that it writes no
// storage, sets no cookie and opens no connection.
(function () {
  var script = document.currentScript;
  if (!script || window.__pigeonLoaded) return;
  window.__pigeonLoaded = true;
  var relay = new URL(script.src).origin;
  var site = script.getAttribute('data-site');
  var queued = (window.Pigeon && window.Pigeon.q) || [];
  var listeners = {};
  var widget = null; // the loaded wasm module, once imported
  var loading = null;
  var open = false;

  var CSS =
    ':host{all:initial}' +
    '.launcher{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;' +
    'background:var(--pg-brand,#2f6fed);color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);' +
    'display:flex;align-items:center;justify-content:center;z-index:2147483000}' +
    '.launcher:focus-visible{outline:3px solid #111;outline-offset:3px}' +
    '.launcher svg{width:28px;height:28px;fill:currentColor}' +
    '.slot[hidden]{display:none}';

  var host = document.createElement('div');
  host.setAttribute('data-pigeon', '');
  var root = host.attachShadow({ mode: 'open' });
  var base = new CSSStyleSheet();
  base.replaceSync(CSS);
  root.adoptedStyleSheets = [base];

  var launcher = document.createElement('button');
  launcher.className = 'launcher';
  launcher.type = 'button';
  launcher.setAttribute('aria-label', 'Open chat');
  launcher.setAttribute('aria-haspopup', 'dialog');
  launcher.setAttribute('aria-expanded', 'false');
  launcher.setAttribute('data-testid', 'launcher');
  var svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  var path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 2-2z');
  svg.appendChild(path);
  launcher.appendChild(svg);

  var slot = document.createElement('div');
  slot.className = 'slot';
  slot.hidden = true;
  root.appendChild(slot);
  root.appendChild(launcher);

  function emit(name, data) {
    (listeners[name] || []).forEach(function (fn) {
      try { fn(data); } catch (e) { setTimeout(function () { throw e; }); }
    });
  }

  // Imports the panel: JS glue and stylesheet in parallel, then the wasm.
  function load() {
    if (!loading) {
      loading = Promise.all([
        import(relay + '/widget/pigeon_widget.js'),
        fetch(relay + '/widget/pigeon.css').then(function (r) { return r.text(); })
      ]).then(function (parts) {
        var panelCss = new CSSStyleSheet();
        panelCss.replaceSync(parts[1]);
        root.adoptedStyleSheets = [base, panelCss];
        return parts[0].default({ module_or_path: relay + '/widget/pigeon_widget_bg.wasm' }).then(function () {
          widget = parts[0];
          widget.mount(slot, relay, site, function () { setOpen(false); });
          return widget;
        });
      });
      loading.catch(function () { loading = null; }); // a failed load is retried on next intent
    }
    return loading;
  }

  function setOpen(want) {
    if (want === open) return;
    open = want;
    launcher.setAttribute('aria-expanded', String(open));
    launcher.setAttribute('aria-label', open ? 'Close chat' : 'Open chat');
    if (open) {
      load().then(function () {
        if (!open) return;
        slot.hidden = false;
        var input = root.querySelector('textarea');
        if (input) input.focus();
        emit('open');
      });
    } else {
      slot.hidden = true;
      launcher.focus();
      emit('close');
    }
  }

  launcher.addEventListener('pointerenter', load, { once: true });
  launcher.addEventListener('focus', load, { once: true });
  launcher.addEventListener('click', function () { setOpen(!open); });
  root.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && open) setOpen(false);
  });

  var commands = {
    open: function () { setOpen(true); },
    close: function () { setOpen(false); },
    on: function (name, fn) { (listeners[name] = listeners[name] || []).push(fn); }
  };
  function run(args) {
    var fn = commands[args[0]];
    if (fn) fn.apply(null, Array.prototype.slice.call(args, 1));
  }
  window.Pigeon = function () { run(arguments); };
  queued.forEach(run);

  function attach() { document.body.appendChild(host); }
  if (document.body) attach();
  else document.addEventListener('DOMContentLoaded', attach);
})();
