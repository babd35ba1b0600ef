import { randomBytes } from 'node:crypto';
import { expectStatus, type ApiClient } from './http.js';

export interface SeededProduct {
  id: number;
  name: string;
  price: number;
  stock: number;
}

export interface Seed {
  brandId: number;
  brandName: string;
  products: SeededProduct[];
}

const NOUNS = [
  'Sneaker',
  'Jacket',
  'Backpack',
  'Watch',
  'Lamp',
  'Mug',
  'Headphones',
  'Scarf',
  'Kettle',
  'Chair',
];
const ADJECTIVES = ['Classic', 'Urban', 'Trail', 'Studio', 'Nordic', 'Retro', 'Compact', 'Everyday'];

/**
 * A run-unique brand and its products, created through the admin API (so every product has its
 * ProductCreated event). The unique brand keeps runs apart on a shared database.
 */
export async function seedCatalog(
  client: ApiClient,
  count: number,
  onProduct?: (done: number) => void,
): Promise<Seed> {
  const brandName = `Demo ${new Date().toISOString().slice(0, 16)} ${randomBytes(3).toString('hex')}`;
  const brand = await client.call('POST', '/brands', { admin: true, body: { name: brandName } });
  expectStatus(brand, 201, 'creating the demo brand');
  const products: SeededProduct[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${ADJECTIVES[i % ADJECTIVES.length]} ${NOUNS[Math.floor(i / ADJECTIVES.length) % NOUNS.length]} ${i + 1}`;
    const price = 1_000 + ((i * 7_919) % 49) * 500; // 10.00 to 250.00 in minor units
    const stock = 15 + ((i * 31) % 40);
    const res = await client.call('POST', '/products', {
      admin: true,
      body: { brandId: brand.body.id, name, price, stock },
    });
    expectStatus(res, 201, `creating product ${name}`);
    products.push({ id: res.body.id, name, price, stock });
    onProduct?.(i + 1);
  }
  return { brandId: brand.body.id, brandName, products };
}
