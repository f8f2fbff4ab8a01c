import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { CATALOGUE_CURRENCY, formatMoney } from '../common/money.js';
import { sourcePath } from '../common/paths.js';

/** Static files and the page template live in src/: the dist/ bundle does not carry them. */
export const publicDir = () => sourcePath('services', 'frontend', 'public');

/**
 * Scripts and styles only from our own origin, no inline script, no plugins, no
 * framing: an injected `<script>` in a product name would be inert even if escaping failed.
 */
export const STOREFRONT_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const PAGE_SIZE = 24;

const catalogPageSchema = z.object({
  items: z.array(
    z.object({
      id: z.number(),
      name: z.string(),
      description: z.string(),
      price: z.number(),
      category: z.string(),
    }),
  ),
  total: z.number().optional(),
});
export type CatalogPage = z.infer<typeof catalogPageSchema>;
type Product = CatalogPage['items'][number];

export function parseCatalogPage(value: unknown): CatalogPage {
  return catalogPageSchema.parse(value);
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and quoted attribute values alike. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

export function loadTemplate(dir = publicDir()): string {
  return readFileSync(join(dir, 'index.html'), 'utf8');
}

/** What the page shows: the first catalogue page, or why there is none. */
export type StorefrontData = { catalog: CatalogPage } | { catalogError: string };

/** Fills the template; every value from outside is escaped here and nowhere else. */
export function renderStorefront(template: string, data: StorefrontData): string {
  const products = 'catalog' in data ? data.catalog.items : [];
  const slots: Record<string, string> = {
    // The browser script formats catalogue prices (search results) with it too.
    currency: escapeHtml(CATALOGUE_CURRENCY),
    notice: 'catalogError' in data ? renderNotice(data.catalogError) : '',
    productSummary: 'catalog' in data ? escapeHtml(summary(data.catalog)) : 'No products to show.',
    products: products.map(renderProduct).join('\n'),
    productOptions: products
      .map((p) => `              <option value="${escapeHtml(p.id)}">${escapeHtml(p.name)} (${escapeHtml(formatPrice(p.price))})</option>`)
      .join('\n'),
  };
  // A function replacement: `$&` and friends inside product names stay literal.
  return template.replace(/\{\{(\w+)\}\}/g, (_match, name: string) => slots[name] ?? '');
}

function renderNotice(reason: string): string {
  return `      <p class="notice" role="alert">The product catalogue is unavailable right now (${escapeHtml(reason)}). Search and ordering may still work; reload to try again.</p>`;
}

function summary(page: CatalogPage): string {
  const shown = page.items.length;
  if (shown === 0) return 'The catalogue is empty.';
  return page.total !== undefined && page.total > shown ? `Showing ${shown} of ${page.total} products.` : `${shown} products.`;
}

function renderProduct(p: Product): string {
  const id = escapeHtml(p.id);
  return [
    `          <li class="product" data-product-id="${id}">`,
    `            <h3>${escapeHtml(p.name)}</h3>`,
    `            <p class="desc">${escapeHtml(p.description)}</p>`,
    `            <p class="row"><span class="price">${escapeHtml(formatPrice(p.price))}</span><span class="tag">${escapeHtml(p.category)}</span></p>`,
    `            <button type="button" class="choose" data-product-id="${id}">Order this</button>`,
    `          </li>`,
  ].join('\n');
}

/** A catalogue price with its currency, as the browser script prints it too. */
export function formatPrice(price: number): string {
  return formatMoney(price, CATALOGUE_CURRENCY);
}
