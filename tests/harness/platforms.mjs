// Stand-ins for the two shop systems' cart endpoints, answering in the shapes their docs
// show, on the demo shop's origin: the widget's extras read them with `data-platform`.
//   Shopify AJAX API, cart (https://shopify.dev/docs/api/ajax/reference/cart): GET /cart.js,
//     POST /cart/add.js {id, quantity}, POST /cart/clear.js. Amounts are integers in
//     hundredths of the cart's currency.
//   WooCommerce Store API, cart (https://developer.woocommerce.com/docs/apis/store-api/resources-endpoints/cart):
//     GET /wp-json/wc/store/v1/cart, POST /wp-json/wc/store/v1/cart/add-item {id, quantity}.
//     Amounts are strings in the store's `currency_minor_unit` digits; names are HTML-escaped.
// Each browser gets its own cart (a `cart` cookie, as Shopify sets one).
import crypto from 'node:crypto';

/// What the two stand-in shops sell, with the odd values real shops send.
const SHOPIFY_PRODUCTS = {
  39897499729985: { product_title: 'Red Rain Coat', variant_title: 'Small', price: 12900, handle: 'red-rain-coat', image: '//cdn.shopify.example/files/coat.jpg' },
  39897499729986: { product_title: 'Wool Socks', variant_title: null, price: 1250, handle: 'wool-socks', image: null },
};
// A store set to show USD without decimals (currency_minor_unit 0).
const WOO_PRODUCTS = {
  14: { name: 'Beanie &amp; Scarf &#8211; Blue', price: '18', permalink: '/product/beanie/', image: '/wp-content/uploads/beanie-324x324.jpg' },
  15: { name: 'Hoodie', price: '45', permalink: '/product/hoodie/', image: null },
};

const carts = new Map(); // cookie → [{ id, quantity }]

function cartOf(req, res) {
  let id = /(?:^|;\s*)cart=([\w-]+)/.exec(req.headers.cookie || '')?.[1];
  if (!id || !carts.has(id)) {
    id = crypto.randomUUID();
    carts.set(id, []);
    res.setHeader('set-cookie', `cart=${id}; Path=/; SameSite=Lax`);
  }
  return carts.get(id);
}

function add(lines, id, quantity) {
  const line = lines.find((l) => l.id === id);
  if (line) line.quantity += quantity;
  else lines.push({ id, quantity });
}

function shopifyCart(lines) {
  const items = lines.map(({ id, quantity }) => {
    const p = SHOPIFY_PRODUCTS[id];
    return {
      id: Number(id), properties: {}, quantity, variant_id: Number(id), key: `${id}:${crypto.createHash('md5').update(String(id)).digest('hex').slice(0, 8)}`,
      title: p.variant_title ? `${p.product_title} - ${p.variant_title}` : p.product_title, price: p.price, original_price: p.price,
      discounted_price: p.price, line_price: p.price * quantity, original_line_price: p.price * quantity, final_price: p.price,
      final_line_price: p.price * quantity, sku: null, grams: 500, vendor: 'Pigeon Outfitters', taxable: true, product_id: Number(id) - 1000,
      gift_card: false, url: `/products/${p.handle}?variant=${id}`, featured_image: p.image ? { url: p.image, alt: p.product_title } : null,
      image: p.image, handle: p.handle, requires_shipping: true, product_title: p.product_title, variant_title: p.variant_title,
    };
  });
  const total = items.reduce((t, i) => t + i.final_line_price, 0);
  return {
    token: 'c1-demo', note: null, attributes: {}, original_total_price: total, total_price: total, total_discount: 0, total_weight: 0,
    item_count: items.reduce((n, i) => n + i.quantity, 0), items, requires_shipping: items.length > 0, currency: 'EUR', items_subtotal_price: total,
    cart_level_discount_applications: [],
  };
}

function wooCart(lines) {
  const money = { currency_code: 'USD', currency_symbol: '$', currency_minor_unit: 0, currency_decimal_separator: '.', currency_thousand_separator: ',', currency_prefix: '$', currency_suffix: '' };
  const items = lines.map(({ id, quantity }) => {
    const p = WOO_PRODUCTS[id];
    return {
      key: crypto.createHash('md5').update(String(id)).digest('hex'), id: Number(id), quantity, quantity_limits: { minimum: 1, maximum: 9999, multiple_of: 1, editable: true },
      name: p.name, short_description: '<p>Warm.</p>', description: '', sku: '', low_stock_remaining: null, backorders_allowed: false,
      show_backorder_badge: false, sold_individually: false, permalink: p.permalink,
      images: p.image ? [{ id: 44, src: p.image.replace('-324x324', ''), thumbnail: p.image, srcset: '', sizes: '', name: 'image', alt: '' }] : [],
      variation: [], item_data: [],
      prices: { price: p.price, regular_price: p.price, sale_price: p.price, price_range: null, ...money, raw_prices: { precision: 6, price: `${p.price}000000`, regular_price: `${p.price}000000`, sale_price: `${p.price}000000` } },
      totals: { line_subtotal: String(p.price * quantity), line_subtotal_tax: '0', line_total: String(p.price * quantity), line_total_tax: '0', ...money },
      catalog_visibility: 'visible', extensions: {},
    };
  });
  const total = items.reduce((t, i) => t + Number(i.totals.line_total), 0);
  return {
    items, coupons: [], fees: [], totals: { total_items: String(total), total_items_tax: '0', total_fees: '0', total_fees_tax: '0', total_discount: '0',
      total_discount_tax: '0', total_shipping: null, total_shipping_tax: null, total_price: String(total), total_tax: '0', tax_lines: [], ...money },
    shipping_address: {}, billing_address: {}, needs_payment: total > 0, needs_shipping: total > 0, payment_requirements: ['products'],
    has_calculated_shipping: false, shipping_rates: [], items_count: items.reduce((n, i) => n + i.quantity, 0), items_weight: 0,
    cross_sells: [], errors: [], payment_methods: ['cod'], extensions: {},
  };
}

async function body(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  try { return JSON.parse(text || '{}'); } catch { return {}; }
}

/// Answers the cart routes of either shop system; false for any other path.
export async function platformApi(req, res, url) {
  const send = (status, data) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify(data));
  };
  const route = `${req.method} ${url.pathname}`;
  switch (route) {
    case 'GET /cart.js': return send(200, shopifyCart(cartOf(req, res))), true;
    case 'POST /cart/add.js': {
      const lines = cartOf(req, res);
      const { id, quantity = 1 } = await body(req);
      if (!SHOPIFY_PRODUCTS[id]) return send(404, { status: 404, message: 'Cart Error', description: 'Cannot find variant' }), true;
      add(lines, String(id), Number(quantity));
      return send(200, shopifyCart(lines).items.find((i) => String(i.id) === String(id))), true;
    }
    case 'POST /cart/clear.js': {
      const lines = cartOf(req, res);
      lines.length = 0;
      return send(200, shopifyCart(lines)), true;
    }
    case 'GET /wp-json/wc/store/v1/cart': return send(200, wooCart(cartOf(req, res))), true;
    case 'POST /wp-json/wc/store/v1/cart/add-item': {
      const lines = cartOf(req, res);
      const { id, quantity = 1 } = await body(req);
      if (!WOO_PRODUCTS[id]) return send(400, { code: 'woocommerce_rest_cart_invalid_product', message: 'This product cannot be added to the cart.', data: { status: 400 } }), true;
      add(lines, String(id), Number(quantity));
      return send(201, wooCart(lines)), true;
    }
    default: return false;
  }
}
