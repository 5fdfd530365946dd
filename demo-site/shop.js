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
