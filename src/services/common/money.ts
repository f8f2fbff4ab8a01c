/**
 * Prices and their currency (docs/architecture.md, "Prices and currency"): the catalogue
 * stores whole cents of one currency, every API shows them as a decimal `price` or
 * `total`, and orders name the currency beside their totals.
 */
export const CATALOGUE_CURRENCY = 'USD';

/**
 * The storefront's locale for money. Fixed rather than the viewer's: the server-rendered
 * page and the browser script must print a price the same way ("$1,299.00").
 */
export const MONEY_LOCALE = 'en-US';

const formats = new Map<string, Intl.NumberFormat>();

/** An amount in major units (1299.5) as shoppers read it, with its currency: "$1,299.50". */
export function formatMoney(amount: number, currency: string = CATALOGUE_CURRENCY): string {
  let format = formats.get(currency);
  if (!format) {
    format = new Intl.NumberFormat(MONEY_LOCALE, { style: 'currency', currency });
    formats.set(currency, format);
  }
  return format.format(amount);
}
