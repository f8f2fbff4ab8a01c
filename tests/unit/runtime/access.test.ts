import { describe, expect, it } from 'vitest';
import { canTraverse, lookupUser } from '../../../src/runtime/local/access.js';

const dir = (path: string, mode: number, uid = 0, gid = 0) => ({ path, mode: 0o040000 | mode, uid, gid });

describe('can another user reach a directory', () => {
  const postgres = { uid: 105, gids: [110] };

  it('needs search permission on every directory above', () => {
    expect(canTraverse([dir('/', 0o755), dir('/work', 0o755), dir('/work/p/.ecom', 0o755)], postgres)).toBe(true);
    expect(canTraverse([dir('/', 0o755), dir('/root', 0o700), dir('/root/p/.ecom', 0o755)], postgres)).toBe(false);
  });

  it('uses owner, then group, then other bits', () => {
    expect(canTraverse([dir('/x', 0o700, 105, 0)], postgres)).toBe(true);
    expect(canTraverse([dir('/x', 0o710, 0, 110)], postgres)).toBe(true);
    expect(canTraverse([dir('/x', 0o701, 0, 110)], postgres)).toBe(false);
    expect(canTraverse([dir('/x', 0o711, 0, 0)], postgres)).toBe(true);
  });

  it('lets root through anything', () => {
    expect(canTraverse([dir('/root', 0o700, 1000)], { uid: 0, gids: [0] })).toBe(true);
  });

  it('reads uid and groups from passwd and group text', () => {
    const passwd = 'root:x:0:0:root:/root:/bin/bash\npostgres:x:105:110:PostgreSQL:/var/lib/postgresql:/bin/bash\n';
    const group = 'postgres:x:110:\nssl-cert:x:111:postgres\nother:x:5:alice\n';
    expect(lookupUser('postgres', passwd, group)).toEqual({ uid: 105, gids: [110, 111] });
    expect(lookupUser('nobody-here', passwd, group)).toBeUndefined();
  });
});
