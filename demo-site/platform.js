// What a Shopify theme or a WooCommerce shop does when "Add to cart" is pressed: it posts to
// its own cart API. It does not tell Pigeon: with data-platform, Pigeon notices and reads the cart.
document.addEventListener('DOMContentLoaded', function () {
  var shopify = document.body.dataset.platform === 'shopify';
  var count = document.getElementById('cart-count');
  var added = 0;
  document.querySelectorAll('[data-add]').forEach(function (button) {
    button.addEventListener('click', function () {
      var url = shopify ? '/cart/add.js' : '/wp-json/wc/store/v1/cart/add-item';
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: Number(button.dataset.add), quantity: 1 }) })
        .then(function (r) { return r.json().then(function () { if (r.ok) count.textContent = 'Cart: ' + (added += 1); }); });
    });
  });
});
