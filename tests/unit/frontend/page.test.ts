import { describe, expect, it } from 'vitest';
import { escapeHtml, renderStorefront } from '../../../src/services/frontend/page.js';

describe('escapeHtml', () => {
  it('escapes the five characters that matter in content and quoted attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });
});

describe('renderStorefront', () => {
  const template = '<p>{{productSummary}}</p><ul>{{products}}</ul><select>{{productOptions}}</select>{{notice}}{{unknown}}';

  it('keeps replacement patterns in product names literal', () => {
    const html = renderStorefront(template, {
      catalog: { items: [{ id: 7, name: "$& $' $` <b>", description: 'd', price: 1.5, category: 'c' }], total: 30 },
    });
    expect(html).toContain("<h3>$&amp; $&#39; $` &lt;b&gt;</h3>");
    expect(html).toContain('<p>Showing 1 of 30 products.</p>');
    expect(html).toContain('($1.50)</option>');
    expect(html).not.toContain('{{');
  });

  it('renders a notice, escaped, when the catalogue is missing', () => {
    const html = renderStorefront(template, { catalogError: 'catalog <down>' });
    expect(html).toContain('unavailable right now (catalog &lt;down&gt;)');
    expect(html).toContain('<p>No products to show.</p>');
  });
});
