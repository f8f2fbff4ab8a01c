import { describe, expect, it } from 'vitest';
import { parseChangedIds } from '../../../src/services/common/db/change-listener.js';

describe('catalogue change payloads', () => {
  it('reads the product ids a notification names', () => {
    expect(parseChangedIds('{"op" : "UPDATE", "ids" : [3,5]}')).toEqual([3, 5]);
    expect(parseChangedIds('{"op":"UPDATE","ids":[]}')).toEqual([]);
  });

  it('says "anything may have changed" when the payload names no ids or cannot be read', () => {
    for (const payload of ['{"op":"TRUNCATE","ids":null}', '{"op":"INSERT"}', 'INSERT', '', undefined, '{"ids":["3"]}', '{"ids":[1.5]}']) {
      expect(parseChangedIds(payload), String(payload)).toBeUndefined();
    }
  });
});
