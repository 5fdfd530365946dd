// The demo shop's own script: a tiny cart, shared with Pigeon through its command queue.
window.Pigeon = window.Pigeon || function () { (Pigeon.q = Pigeon.q || []).push(arguments); };

(function () {
  var cart = { currency: 'EUR', total: 0, items: [] };
  function render() {
    var count = cart.items.reduce(function (n, i) { return n + i.quantity; }, 0);
    document.getElementById('cart-count').textContent = 'Cart: ' + count;
  }
  document.addEventListener('DOMContentLoaded', function () {
    document.getElementById('add').addEventListener('click', function () {
      var size = document.getElementById('size').value;
      var id = 'trail-runner-2-' + size;
      var line = cart.items.find(function (i) { return i.id === id; });
      if (line) line.quantity += 1;
      else cart.items.push({ id: id, name: 'Trail Runner 2 (size ' + size + ')', quantity: 1, unit_price: 5999 });
      cart.total = cart.items.reduce(function (t, i) { return t + i.quantity * i.unit_price; }, 0);
      render();
      Pigeon('cart', cart);
    });
  });
})();

// The shop's customer accounts (two demo customers). The shop's server signs the signed-in
// customer's id (tests/harness/accounts.mjs); the page hands it to Pigeon, which then shows
// that customer's conversation on any device. Signing out clears this browser's thread.
(function () {
  var slot;
  function render(customer) {
    slot.replaceChildren();
    if (customer) {
      var who = document.createElement('span');
      who.textContent = 'Signed in as ' + customer.name;
      slot.append(who, button('Sign out', null));
    } else {
      slot.append(button('Sign in as Ada', 'ada'), button('Sign in as Ben', 'ben'));
    }
  }
  function button(text, as) {
    var b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    b.addEventListener('click', function () {
      account('POST', JSON.stringify({ as: as })).then(function (customer) {
        Pigeon('identify', customer);
        render(customer);
      });
    });
    return b;
  }
  function account(method, body) {
    return fetch('/api/account', { method: method, body: body, headers: body ? { 'content-type': 'application/json' } : {} })
      .then(function (r) { return r.json(); })
      .then(function (a) { return a.customer; });
  }
  document.addEventListener('DOMContentLoaded', function () {
    slot = document.getElementById('account');
    account('GET').then(function (customer) {
      if (customer) Pigeon('identify', customer);
      render(customer);
    });
  });
})();
